package ui

import (
	"context"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// Reading back through a conversation is use: the older pages the view asks
// for as the user scrolls up defer auto-lock like a tap or a keystroke, so
// the screen does not lock under a nurse reading old messages. The idle
// timer runs on an injected clock; nothing here waits on real time.
func TestLoadOlderDefersAutoLock(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clock := &stepClock{now: time.Now()}
	cfg := app.Config{DataDir: t.TempDir(), KDF: securestore.KDFParams{Time: 1, Memory: 64, Threads: 1},
		Secrets: &memKeyring{}, Policy: app.Policy{LockAfter: 10 * time.Minute}, Clock: clock}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := app.SignIn(ctx, cfg, srv.JID("alice"), testserver.Password, srv.WSURL(), []byte("482913"))
	if err != nil {
		t.Fatal(err)
	}
	fa := test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel(""))
	w.Resize(screenSizes["desktop"])
	c := &Controller{App: fa, Window: w, Config: cfg}
	c.signedIn(cl)
	t.Cleanup(func() {
		cl.SignOut()
		drainUI()
	})
	conv, err := cl.StartChat(srv.JID("bob"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Send(conv, "Bed 4 obs due at 14:00"); err != nil {
		t.Fatal(err)
	}
	v := openRealConversation(t, cl, c, conv)

	clock.Advance(9 * time.Minute) // reading, no taps
	if cl.Locked() {
		t.Fatal("locked after 9 of 10 idle minutes")
	}
	// The user scrolls to the top: the view asks for the page before its
	// first row, as updateRow does when the loader row comes into view.
	drainUI()
	done := make(chan struct{})
	v.actions = loadOlderDone{v.actions, done}
	v.requestOlder()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("LoadOlder did not return within 10 s")
	}
	drainUI()
	clock.Advance(2 * time.Minute) // 11 minutes after sign-in, 2 after scrolling
	if cl.Locked() {
		t.Fatal("locked 2 minutes after the user scrolled back through the history (LoadOlder is not activity)")
	}
	clock.Advance(9 * time.Minute) // now 10+ idle minutes after the scroll
	if !cl.Locked() {
		t.Fatal("not locked 11 idle minutes after the last scroll: the test's clock does not drive auto-lock")
	}
}

// loadOlderDone says when the real actions' LoadOlder has returned.
type loadOlderDone struct {
	ConversationActions
	done chan struct{}
}

func (l loadOlderDone) LoadOlder(conv string, before app.MessageID) {
	l.ConversationActions.LoadOlder(conv, before)
	close(l.done)
}

// stepClock is app.Clock moved by hand: AfterFunc callbacks run, in time
// order, when Advance passes their time.
type stepClock struct {
	mu     gosync.Mutex
	now    time.Time
	timers []*stepTimer
}

type stepTimer struct {
	c       *stepClock
	at      time.Time
	f       func()
	stopped bool
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) app.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &stepTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *stepTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *stepTimer
		for _, t := range c.timers {
			if !t.stopped && !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		next.stopped = true
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
	}
}

// Scrolling the list is reading, and reading is use: the view reports it
// (Reading, which the controller turns into activity) when the user moves
// the list, and not when it moves the list itself (opening at the newest
// message, following a new one).
func TestScrollingIsReading(t *testing.T) {
	test.NewTempApp(t)
	rows := manyMessages(300)
	v, f, w := openConversation(t, ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, rows, fyne.NewSize(900, 640))
	reading := func() int { return f.snapshot(func(f *fakeActions) int { return f.reading }) }
	w.Canvas().Capture()
	if n := reading(); n != 0 {
		t.Fatalf("opening the conversation counted as reading %d times", n)
	}
	more := manyMessages(1)
	more[0].ID += 100000
	v.Append(more...)
	w.Canvas().Capture()
	if n := reading(); n != 0 {
		t.Fatalf("following a new message counted as reading %d times", n)
	}
	before := v.list.GetScrollOffset()
	p := fyne.CurrentApp().Driver().AbsolutePositionForObject(v.list)
	test.Scroll(w.Canvas(), p.Add(fyne.NewPos(20, 100)), 0, 600) // the wheel, upwards
	w.Canvas().Capture()
	if v.list.GetScrollOffset() == before {
		t.Fatal("the wheel did not move the list")
	}
	if n := reading(); n == 0 {
		t.Fatal("scrolling back through the conversation was not reported as reading (auto-lock would fire)")
	}
}

// An open conversation on an unattended desktop: messages arriving and
// followed, the newest row corrected shorter (a correction, a recall, a
// reaction withdrawn: the list pulls up), resizes: none of it is reading, or
// the ward's traffic would keep the screen unlocked.
func TestIncomingIsNotReading(t *testing.T) {
	test.NewTempApp(t)
	rows := manyMessages(300)
	v, f, w := openConversation(t, ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, rows, fyne.NewSize(900, 640))
	reading := func() int { return f.snapshot(func(f *fakeActions) int { return f.reading }) }
	w.Canvas().Capture()
	for i := 0; i < 40; i++ {
		m := manyMessages(1)[0]
		m.ID = app.MessageID(200000 + i)
		if i%3 == 0 {
			m.Body = "long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long long"
		}
		v.Append(m)
		w.Canvas().Capture()
		if n := reading(); n != 0 {
			t.Fatalf("after incoming message %d (before its correction): counted as reading %d times", i, n)
		}
		if i%3 == 0 {
			m.Body = "ok"
			v.Update(m) // the newest row gets shorter
			w.Canvas().Capture()
		}
		if n := reading(); n != 0 {
			t.Fatalf("after incoming message %d: counted as reading %d times", i, n)
		}
	}
	w.Resize(fyne.NewSize(900, 500))
	w.Canvas().Capture()
	w.Resize(fyne.NewSize(700, 500))
	w.Canvas().Capture()
	m := manyMessages(1)[0]
	m.ID = 300000
	v.Append(m)
	w.Canvas().Capture()
	if n := reading(); n != 0 {
		t.Fatalf("a resize and a message counted as reading %d times", n)
	}
}
