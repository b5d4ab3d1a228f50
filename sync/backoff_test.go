package sync

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestBackoffGrowsWithJitterAndCaps(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 12; n++ {
		ceil := b.Min << (n - 1)
		if ceil > b.Max || n > 6 {
			ceil = b.Max
		}
		seen := map[time.Duration]bool{}
		for i := 0; i < 200; i++ {
			d := b.Delay(n, r)
			if d < ceil/2 || d > ceil {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", n, d, ceil/2, ceil)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Fatalf("attempt %d: only %d distinct delays: no jitter", n, len(seen))
		}
	}
}
