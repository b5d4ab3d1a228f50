//go:build race

package securestore

// raceEnabled: the race detector instruments every copy bbolt makes; on a
// damaged page that copies gigabytes this takes minutes (TestPageDamage).
const raceEnabled = true
