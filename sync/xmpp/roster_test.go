package xmpp

import (
	"sync"
	"testing"

	"rounds/internal/testserver"
)

func TestRosterAddGetPushRemove(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	var mu sync.Mutex
	var pushes []RosterItem
	cfg := baseConfig(s, "alice")
	cfg.OnRosterPush = func(it RosterItem) { mu.Lock(); pushes = append(pushes, it); mu.Unlock() }
	c := dialT(t, cfg)
	if _, err := c.Roster(ctxT(t)); err != nil { // marks us as an interested resource
		t.Fatal(err)
	}
	if err := c.RosterSet(ctxT(t), RosterItem{JID: s.JID("bob"), Name: "Dr. Bob", Groups: []string{"ICU"}}); err != nil {
		t.Fatal(err)
	}
	items, err := c.Roster(ctxT(t))
	if err != nil || len(items) != 1 || items[0].Name != "Dr. Bob" || items[0].Groups[0] != "ICU" {
		t.Fatalf("roster %+v, %v", items, err)
	}
	if err := c.RosterRemove(ctxT(t), s.JID("bob")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "pushes", func() bool { mu.Lock(); defer mu.Unlock(); return len(pushes) == 2 })
	if pushes[0].Subscription != "none" || pushes[1].Subscription != "remove" {
		t.Fatalf("pushes %+v", pushes)
	}
}
