//go:build android || ios

package securestore

// platformKDF on hospital Android phones and iPhones: 32 MiB keeps well clear
// of the per-app memory limits of low-end Android devices and iOS app
// extensions, while t=3 and 4 lanes keep unlock around 0.3-0.6 s on a
// mid-range phone. Still well above OWASP's Argon2id minimum (19 MiB, t=2).
var platformKDF = KDFParams{Time: 3, Memory: 32 * 1024, Threads: 4}
