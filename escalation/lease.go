package escalation

import (
	"context"
	"log/slog"
	gosync "sync"
	"time"

	"rounds/sync"
)

// Two instances of the service may run for availability: the same account,
// each with its own resource and its own store. Both receive every hand-off
// and response (the server delivers messages to the bare JID to both, and
// carbons copy what one sends to the other, so the other's store and
// ladders follow each step). Only the instance holding the lease fires
// steps.
//
// The lease is one item on a PEP node of the service's own account
// (sync.ReadLease / WriteLease): "holder H until T". An instance takes it
// when it is free or expired, then waits a settling delay and reads it
// back: of two instances writing at once the server keeps the last write,
// and both read the same winner. The holder renews it every TTL/3 and stops
// firing on its own when its renewal is late (Held is false from TTL minus
// a margin, by its own clock), so an instance cut off from the server stops
// before the other may start. If both ever fired the same step anyway (a
// clock jump), the step's origin-ids are derived from the ladder, so
// receivers store it once.
//
// T is written by the holder's clock, and the instances run on two hosts
// whose clocks may disagree: compared with another clock, an hour's skew
// would make a reader ahead take the lease from a live holder (both fire),
// or a reader behind wait an hour after the holder died. So another
// instance's lease counts as expired only when the item has not changed
// for TTL by the reader's own clock, from when it first read it as it is
// (a live holder rewrites it every TTL/3); T itself is not compared.

// PubSubLease is the lease kept in the service account's PEP node.
type PubSubLease struct {
	s      *sync.Session
	me     string
	ttl    time.Duration
	settle time.Duration
	clock  sync.Clock
	log    *slog.Logger

	mu    gosync.Mutex
	until time.Time // our lease's end, when we hold it

	// seen is another instance's lease as last read, and when (by our
	// clock) we first read it so: it is expired once unchanged for ttl.
	seenHolder string
	seenUntil  time.Time
	seenAt     time.Time
}

// NewPubSubLease makes the lease of instance me (its resource), held for
// ttl at a time (at least 3 s).
func NewPubSubLease(s *sync.Session, me string, ttl time.Duration, clock sync.Clock, log *slog.Logger) *PubSubLease {
	if clock == nil {
		clock = systemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	ttl = max(ttl, 3*time.Second)
	return &PubSubLease{s: s, me: me, ttl: ttl, settle: ttl / 10, clock: clock, log: log}
}

// Held: this instance holds the lease now, with a margin of TTL/6 before it
// would run out unrenewed.
func (l *PubSubLease) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.until.IsZero() && l.clock.Now().Before(l.until.Add(-l.ttl/6))
}

// Run takes and keeps the lease until ctx ends; changed is called whenever
// this instance gains it (so the service fires what is due).
func (l *PubSubLease) Run(ctx context.Context, changed func()) {
	for {
		was := l.Held()
		l.step(ctx)
		if now := l.Held(); now != was {
			l.log.Info("escalation: lease", "held", now, "instance", l.me)
			changed()
		}
		select {
		case <-ctx.Done():
			return
		case <-l.clock.After(l.ttl / 3):
		}
	}
}

// step renews the lease we hold, or takes it when it is free or expired.
func (l *PubSubLease) step(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, l.ttl/3)
	defer cancel()
	holder, until, err := l.s.ReadLease(ctx)
	if err != nil {
		l.log.Info("escalation: lease not read", "err", err)
		return // Held lapses on its own if this goes on
	}
	now := l.clock.Now()
	mine := holder == l.me
	if !mine && holder != "" && !l.stale(holder, until, now) {
		l.drop()
		return // another instance holds it
	}
	end := now.Add(l.ttl)
	if err := l.s.WriteLease(ctx, l.me, end); err != nil {
		l.log.Info("escalation: lease not written", "err", err)
		return
	}
	if !mine || !l.Held() {
		// Taking it: let a concurrent writer's write land, then see who won.
		select {
		case <-ctx.Done():
			return
		case <-time.After(l.settle):
		}
		if holder, _, err = l.s.ReadLease(ctx); err != nil || holder != l.me {
			l.drop()
			return
		}
	}
	l.mu.Lock()
	l.until = end
	l.mu.Unlock()
}

// stale: another instance's lease, read at now, has not changed for ttl by
// our clock (its holder stopped renewing it). Only step calls it.
func (l *PubSubLease) stale(holder string, until, now time.Time) bool {
	if holder != l.seenHolder || !until.Equal(l.seenUntil) || l.seenAt.IsZero() {
		l.seenHolder, l.seenUntil, l.seenAt = holder, until, now
		return false
	}
	return now.Sub(l.seenAt) >= l.ttl
}

func (l *PubSubLease) drop() {
	l.mu.Lock()
	l.until = time.Time{}
	l.mu.Unlock()
}
