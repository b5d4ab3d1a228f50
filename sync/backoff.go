package sync

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces reconnect attempts: exponential from Min to Max with full
// jitter, so a ward's worth of phones that lost Wi-Fi together do not all hit
// the server in the same second when it comes back.
type Backoff struct {
	Min, Max time.Duration
}

func (b Backoff) withDefaults() Backoff {
	if b.Min <= 0 {
		b.Min = 500 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 60 * time.Second
	}
	if b.Max < b.Min {
		b.Max = b.Min
	}
	return b
}

// Delay is the wait before attempt n (1-based): uniform in
// [d/2, d] where d = min(Max, Min·2^(n-1)).
func (b Backoff) Delay(n int, r *rand.Rand) time.Duration {
	b = b.withDefaults()
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	half := d / 2
	return half + time.Duration(r.Int64N(int64(half)+1))
}
