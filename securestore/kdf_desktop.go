//go:build !android && !ios

package securestore

// platformKDF on desktops (Windows/macOS/Linux front-desk and physician
// machines): RFC 9106's second recommended option (t=3, 64 MiB, p=4). Measured
// 0.17-0.29 s on a 2-core VM (docs/BENCHMARKS.md): a negligible wait at unlock, and an offline
// guesser pays the same per PIN guess.
var platformKDF = KDFParams{Time: 3, Memory: 64 * 1024, Threads: 4}
