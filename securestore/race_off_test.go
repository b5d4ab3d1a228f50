//go:build !race

package securestore

const raceEnabled = false
