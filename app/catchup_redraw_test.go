package app

import (
	"context"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/archivebench"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// inboxReloads follows a Client's changes as the UI does: on each
// InboxChanged it reloads the inbox and notes the unread count of conv.
type inboxReloads struct {
	mu     gosync.Mutex
	unread []int // per reload
}

func (r *inboxReloads) follow(c *Client, conv string) {
	go func() {
		for ch := range c.Changes() {
			if ch.Kind != InboxChanged {
				continue
			}
			n := -1
			if rows, err := c.Inbox(""); err == nil {
				for _, row := range rows {
					if row.ID == conv {
						n = row.Unread
					}
				}
			}
			r.mu.Lock()
			r.unread = append(r.unread, n)
			r.mu.Unlock()
		}
	}()
}

func (r *inboxReloads) list() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.unread...)
}

// catchUpCounted signs reader in (a fresh store) while its archive holds n
// messages from sender and counts the inbox reloads until the Client is
// Online. elapsed is the time from just before SignIn to the moment the test
// saw Online, by the test's own clock: every counted reload happened in it.
func catchUpCounted(t *testing.T, srv *testserver.Server, n int) (c *Client, r *inboxReloads, reloads int, elapsed time.Duration) {
	t.Helper()
	t0 := time.Now()
	c, err := SignIn(context.Background(), testConfig(t), srv.JID("reader"), testserver.Password, srv.WSURL(), testPIN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.SignOut)
	r = &inboxReloads{}
	r.follow(c, srv.JID("sender"))
	waitFor(t, "reader online", 5*time.Minute, func() bool { return c.Connection().Connectivity == sync.Online })
	elapsed = time.Since(t0)
	reloads = len(r.list())
	waitFor(t, "every archived message in the inbox", 30*time.Second, func() bool {
		u := r.list()
		return len(u) > 0 && u[len(u)-1] == n
	})
	return c, r, reloads, elapsed
}

// A catch-up of 1,000 archived messages in pages of 25 (up to 40 commits,
// each a MessagesAdded) reloads the inbox at most once per catchUpWindow,
// plus the few deliveries something else forced (sign-in's first draw, the
// connection's changes). Not timed: the bound is a count over the
// catch-up's own duration by the test's clock, so a slow machine only
// loosens it (the queue never delivers catch-up changes closer together
// than the window, however long the catch-up takes). The window is 5 s
// here, and the pages small, so the bound stays far below the number of
// batches even when a loaded machine spreads the pages out (at load 25 a
// page of 25 took ~0.4 s, farther apart than the real 500 ms window): with
// the 100 ms window of live changes the count tracks the batches.
func TestCatchUpReloadsInboxAFewTimesASecond(t *testing.T) {
	defer func(p int, w time.Duration) { catchUpPage, catchUpWindow = p, w }(catchUpPage, catchUpWindow)
	catchUpPage, catchUpWindow = 25, 5*time.Second
	const n = 1000
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "sender", "reader")
	archivebench.Fill(t, srv, "reader", n)
	_, _, reloads, elapsed := catchUpCounted(t, srv, n)
	// Deliveries that are not the window's: sign-in's first draw, the
	// first catch-up batch (an idle queue delivers at once), each
	// connection change cutting a wait short (connecting, online), and
	// two spare for other sign-in changes (roster, policy).
	const forced = 6
	bound := forced + int(elapsed/catchUpWindow)
	t.Logf("catch-up of %d messages: %d inbox reloads in %v (bound %d)", n, reloads, elapsed.Round(time.Millisecond), bound)
	if reloads > bound {
		t.Errorf("catch-up of %d messages in %v reloaded the inbox %d times, want at most %d (one per %v)", n, elapsed.Round(time.Millisecond), reloads, bound, catchUpWindow)
	}
}

// After a catch-up, a live message reaches the inbox: with the catch-up
// window made an hour long, the live message's reload still comes (well
// within the test's 30 s). End to end only: the queue is idle again when
// the message comes (Online cut the last wait), so this passes even with
// every message pushed as bulk; that a live message cuts a catch-up wait is
// TestUrgentCatchUpCutsCatchUpWait's "routine live message".
func TestLiveMessageAfterCatchUpShowsAtOnce(t *testing.T) {
	defer func(w time.Duration) { catchUpWindow = w }(catchUpWindow)
	catchUpWindow = time.Hour
	const n = 750
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "sender", "reader")
	archivebench.Fill(t, srv, "reader", n)
	_, r, reloads, _ := catchUpCounted(t, srv, n)
	if reloads == 0 {
		t.Fatal("the catch-up reloaded the inbox not even once")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("sender"), Resource: "live",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Send(xmpp.NewChat(srv.JID("reader"), "Live: bed 4 needs review")); err != nil {
		t.Fatal(err)
	}
	// A reload that shows it: the live message is on the screen.
	waitFor(t, "an inbox reload showing the live message", 30*time.Second, func() bool {
		u := r.list()
		return u[len(u)-1] == n+1
	})
}

// A change that is not bulk (a live message, the connection, the user's own
// send) pushed while the queue waits out the catch-up window after a bulk
// delivery is delivered without waiting for that window, and takes the
// pending bulk changes with it. The window is an hour: a live change held by
// it would fail the test's 30 s.
func TestChangeQueueLiveChangeCutsCatchUpWait(t *testing.T) {
	q := newChangeQueue(coalesceWindow, time.Hour)
	defer q.close()
	next := func(what string) Change {
		t.Helper()
		select {
		case ch := <-q.out:
			return ch
		case <-time.After(30 * time.Second):
			t.Fatalf("%s not delivered within 30 s", what)
		}
		return Change{}
	}
	q.pushBulk(Change{Kind: InboxChanged}) // an idle queue delivers at once
	if ch := next("the first catch-up change"); ch.Kind != InboxChanged {
		t.Fatalf("got %v", ch.Kind)
	}
	// Now in the hour-long wait: a bulk change waits, a live one does not.
	q.pushBulk(Change{Kind: InboxChanged})
	live := Change{Kind: ConversationChanged, Conversation: "bob@rounds.test"}
	q.push(live)
	got := map[Change]bool{next("the pending changes"): true}
	got[next("the pending changes")] = true
	if !got[live] || !got[Change{Kind: InboxChanged}] {
		t.Fatalf("delivered %v, want the live change and the pending inbox change", got)
	}
}

// An urgent page that arrives in a catch-up (the archive after a night
// offline, or the locked inbox merged at unlock) is as urgent on the screen
// as a live one: its batch is handled while the queue waits out the
// catch-up window after a delivery of routine catch-up, and the alert card
// (AlertsChanged) and its inbox row come without waiting for that window.
// The window is an hour, so any change held by it fails the 30 s; a routine
// catch-up batch in the same state is shown to wait (the test is in the slow
// wait, not an idle queue). STAT, urgent, and a routine page asking for an
// acknowledgement each count; so does a routine message arriving live, in
// the same state (the classification TestLiveMessageAfterCatchUpShowsAtOnce
// cannot see: its live message comes to an idle queue).
func TestUrgentCatchUpCutsCatchUpWait(t *testing.T) {
	defer func(w time.Duration) { catchUpWindow = w }(catchUpWindow)
	catchUpWindow = time.Hour
	for _, tc := range []struct {
		name    string
		urgency securestore.Urgency
		ack     bool
		live    bool // a routine message arriving live, not in a catch-up
	}{
		{"STAT", securestore.UrgencyCritical, false, false},
		{"urgent", securestore.UrgencyHigh, false, false},
		{"routine asking for an acknowledgement", securestore.UrgencyNormal, true, false},
		{"routine live message", securestore.UrgencyNormal, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := offlineClient(t)
			st := c.store
			const ward, doctor = "ward7@hospital.test", "dr.osei@hospital.test"
			arrive := func(from string, urgency securestore.Urgency, ack, catchUp bool) {
				t.Helper()
				m := securestore.Message{ConversationID: from, From: from + "/pager", Direction: securestore.Incoming,
					Body: "catch-up", Urgency: urgency, Timestamp: time.Now().Add(-time.Hour), ReceivedAt: time.Now()}
				if ack {
					m.Extra = map[string]string{extraAck: "required"}
				}
				added, err := st.AppendMessages([]securestore.Message{m})
				if err != nil || len(added) != 1 {
					t.Fatalf("append: %v (%d added)", err, len(added))
				}
				c.handle(st, sync.MessagesAdded{Messages: added, CatchUp: catchUp})
			}
			next := func(within time.Duration) (Change, bool) {
				select {
				case ch := <-c.changes.out:
					return ch, true
				case <-time.After(within):
					return Change{}, false
				}
			}
			// The clinical state bound to the store first, as after any
			// earlier batch (its first binding pushes AlertsChanged).
			c.clin.follow(st)
			// That live change delivered and the queue quiet: the routine
			// batch below must be a delivery of bulk changes alone.
			for quiet := false; !quiet; {
				_, delivered := next(500 * time.Millisecond)
				quiet = !delivered
			}
			// Routine catch-up: an idle queue delivers it at once (all of
			// it, or the part pushed before the queue took its batch), then
			// waits the (hour-long) catch-up window.
			arrive(ward, securestore.UrgencyNormal, false, true)
			if _, ok := next(30 * time.Second); !ok {
				t.Fatal("the first catch-up batch was not delivered")
			}
			for quiet := false; !quiet; {
				_, delivered := next(500 * time.Millisecond)
				quiet = !delivered
			}
			// More routine catch-up waits for the window.
			arrive(ward, securestore.UrgencyNormal, false, true)
			if ch, ok := next(300 * time.Millisecond); ok {
				t.Fatalf("routine catch-up delivered during the catch-up window: %+v", ch)
			}
			// The page from the archive does not, nor a live message.
			arrive(doctor, tc.urgency, tc.ack, !tc.live)
			got := map[Change]bool{}
			want := []Change{{Kind: InboxChanged}, {Kind: ConversationChanged, Conversation: doctor}}
			if !tc.live {
				want = append(want, Change{Kind: AlertsChanged})
			}
			for _, want := range want {
				for !got[want] {
					ch, ok := next(30 * time.Second)
					if !ok {
						t.Fatalf("%s: %+v not delivered within 30 s (got %v)", tc.name, want, got)
					}
					got[ch] = true
				}
			}
			if n := len(c.Alerts()); tc.live && n != 0 || !tc.live && n != 1 {
				t.Fatalf("alerts %+v, want the page's only", c.Alerts())
			}
		})
	}
}

// A catch-up that never pauses (bulk changes pushed without a break, as a
// long archive's pages are) is still delivered every catch-up window: no
// change waits for the trickle to end, and none is lost. The window is
// 200 ms and the test allows 30 s for each.
func TestChangeQueueBulkTrickleNotStarved(t *testing.T) {
	q := newChangeQueue(coalesceWindow, 200*time.Millisecond)
	defer q.close()
	stop := make(chan struct{})
	pushed := make(chan int, 1<<16)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				close(pushed)
				return
			case <-time.After(2 * time.Millisecond):
			}
			q.pushBulk(Change{Kind: ConversationChanged, Conversation: "c" + strconv.Itoa(i)})
			pushed <- i
		}
	}()
	got := map[string]bool{}
	next := func(what string) {
		t.Helper()
		select {
		case ch := <-q.out:
			got[ch.Conversation] = true
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: not delivered within 30 s", what)
		}
	}
	// While the trickle runs: a change pushed now comes in a later batch.
	last := 0
	for round := 0; round < 5; round++ {
		var mark int
		for mark = range pushed {
			if mark > round*100 {
				break
			}
		}
		last = max(last, mark)
		for !got["c"+strconv.Itoa(mark)] {
			next("c" + strconv.Itoa(mark) + " during the trickle")
		}
	}
	close(stop)
	for i := range pushed {
		last = max(last, i)
	}
	for i := 0; i <= last; i++ {
		for !got["c"+strconv.Itoa(i)] {
			next("c" + strconv.Itoa(i) + " after the trickle")
		}
	}
}
