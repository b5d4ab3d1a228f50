package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestTwoClients: alice and bob on one server — send and receive, receipts
// to read after MarkShown, inbox order and unread, day breaks, first unread.
func TestTwoClients(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})

	conv, err := alice.c.StartChat(" " + bob.jid + "/phone ")
	if err != nil || conv != bob.jid {
		t.Fatalf("StartChat = %q, %v", conv, err)
	}
	if _, ok := alice.row(bob.jid); !ok {
		t.Fatal("StartChat made no inbox row")
	}
	if _, err := alice.c.Send(bob.jid, "   \n "); !errors.Is(err, ErrEmptyMessage) {
		t.Fatalf("empty send: %v", err)
	}
	if _, err := alice.c.Send(bob.jid, strings.Repeat("é", MaxMessageRunes+1)); !errors.Is(err, ErrMessageTooLong) {
		t.Fatalf("long send: %v", err)
	}
	var ids []securestore.MessageID
	for i := range 3 {
		id, err := alice.c.Send(bob.jid, fmt.Sprintf("  hello %d\nsecond line  ", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	bob.waitUnread(alice.jid, 3)
	// carol writes later, so her conversation is on top of bob's inbox.
	if _, err := carol.c.Send(bob.jid, "from carol"); err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(carol.jid, 1)
	rows, err := bob.c.Inbox("")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ID != carol.jid || rows[1].ID != alice.jid {
		t.Fatalf("inbox order: %+v", rows)
	}
	if r := rows[1]; r.Unread != 3 || r.Preview != "hello 2" || r.IsRoom || r.Title != alice.jid {
		t.Fatalf("alice row: %+v", r)
	}
	if r := rows[1]; r.Presence != "" {
		t.Fatalf("alice presence %q without a subscription", r.Presence)
	}
	if rows, _ := bob.c.Inbox("CAROL"); len(rows) != 1 || rows[0].ID != carol.jid {
		t.Fatalf("search: %+v", rows)
	}

	msgs, err := bob.c.Messages(alice.jid, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 || msgs[0].Body != "hello 0\nsecond line" || msgs[0].Outgoing || msgs[0].Sender != alice.jid {
		t.Fatalf("messages: %+v", msgs)
	}
	if !msgs[0].DayBreak || msgs[1].DayBreak || msgs[2].DayBreak {
		t.Fatalf("day breaks: %v %v %v", msgs[0].DayBreak, msgs[1].DayBreak, msgs[2].DayBreak)
	}
	if first, ok := bob.c.FirstUnread(alice.jid); !ok || first != msgs[0].ID {
		t.Fatalf("FirstUnread = %d %v, want %d", first, ok, msgs[0].ID)
	}
	older, err := bob.c.Older(alice.jid, msgs[2].ID, 10)
	if err != nil || len(older) != 2 || older[0].ID != msgs[0].ID || !older[0].DayBreak {
		t.Fatalf("Older: %+v %v", older, err)
	}

	// Bob reads the first two: alice sees them read, the third delivered.
	if err := bob.c.MarkShown(alice.jid, msgs[1].ID); err != nil {
		t.Fatal(err)
	}
	if first, ok := bob.c.FirstUnread(alice.jid); !ok || first != msgs[2].ID {
		t.Fatalf("FirstUnread after reading two = %d %v", first, ok)
	}
	waitFor(t, "receipts at alice", 30*time.Second, func() bool {
		ms, err := alice.c.Messages(bob.jid, 10)
		if err != nil || len(ms) != 3 {
			return false
		}
		return ms[0].Receipt.State == securestore.ReceiptRead && ms[1].Receipt.State == securestore.ReceiptRead &&
			ms[2].Receipt.State == securestore.ReceiptDelivered
	})
	ms, _ := alice.c.Messages(bob.jid, 10)
	if !ms[0].Outgoing || ms[0].Sender != "You" || ms[0].ID != ids[0] {
		t.Fatalf("alice's row: %+v", ms[0])
	}
	for _, st := range []securestore.ReceiptState{securestore.ReceiptQueued, securestore.ReceiptSent, securestore.ReceiptDelivered, securestore.ReceiptRead} {
		if ms[0].Receipt.At[st].IsZero() {
			t.Fatalf("no time for %v", st)
		}
	}
	if r, _ := bob.row(alice.jid); r.Unread != 1 {
		t.Fatalf("unread after MarkShown = %d", r.Unread)
	}
	waitFor(t, "ConversationChanged for receipts", 5*time.Second, func() bool {
		return alice.changeCount(Change{Kind: ConversationChanged, Conversation: bob.jid}) > 0
	})

	// Directory from the roster.
	if err := bob.c.AddContact(alice.jid, "Dr Alice Osei"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "roster push", 30*time.Second, func() bool {
		cs, err := bob.c.Directory("osei")
		return err == nil && len(cs) == 1 && cs[0].JID == alice.jid
	})
	if r, _ := bob.row(alice.jid); r.Title != "Dr Alice Osei" {
		t.Fatalf("title from roster: %q", r.Title)
	}
	if cs, _ := bob.c.Directory("nobody"); len(cs) != 0 {
		t.Fatalf("directory filter: %+v", cs)
	}
	if err := alice.c.SetPresence("dnd", "In surgery"); err != nil {
		t.Fatal(err)
	}
	if err := alice.c.SetPresence("busy", ""); !errors.Is(err, ErrInvalidPresence) {
		t.Fatalf("bad show: %v", err)
	}
}

// TestLockUnlock: locking stops the session and closes the store; unlocking
// with the PIN catches up; wrong PINs count down and the limit wipes.
func TestLockUnlock(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	cfg := testConfig(t)
	cfg.Policy.MaxWrongPINs = 3
	alice := signIn(t, srv, "alice", cfg)
	bob := signIn(t, srv, "bob", Config{})

	alice.c.Lock()
	if !alice.c.Locked() {
		t.Fatal("not locked")
	}
	if _, err := alice.c.Inbox(""); !errors.Is(err, ErrLocked) {
		t.Fatalf("Inbox while locked: %v", err)
	}
	if _, err := alice.c.Send(bob.jid, "x"); !errors.Is(err, ErrLocked) {
		t.Fatalf("Send while locked: %v", err)
	}
	if alice.c.Connection().Connectivity != 0 {
		t.Fatal("session still running")
	}
	// The store is closed: another handle can take the file lock.
	path := StorePath(cfg.DataDir, alice.jid)
	st, err := securestore.Open(path, testPIN, cfg.storeOptions())
	if err != nil {
		t.Fatalf("store still held: %v", err)
	}
	st.Close()
	waitFor(t, "Locked change", 5*time.Second, func() bool { return alice.changeCount(Change{Kind: Locked}) == 1 })

	if _, err := bob.c.Send(alice.jid, "while you were locked"); err != nil {
		t.Fatal(err)
	}
	var wp *WrongPINError
	if err := alice.c.Unlock(context.Background(), []byte("0000")); !errors.As(err, &wp) || wp.Remaining != 2 || !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if err := alice.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	alice.waitUnread(bob.jid, 1)
	// Locked and Unlocked supersede each other while pending; what must hold
	// is that the last of them the UI saw says "unlocked".
	waitFor(t, "Unlocked change after Locked", 5*time.Second, func() bool {
		cs := alice.changeList()
		for i := len(cs) - 1; i >= 0; i-- {
			switch cs[i].Kind {
			case Unlocked:
				return true
			case Locked:
				return false
			}
		}
		return false
	})

	// Sign out keeps the data; Unlock from cold; then the wrong-PIN limit.
	alice.c.SignOut()
	if !HasAccount(cfg) {
		t.Fatal("sign-out lost the account")
	}
	c, err := Unlock(context.Background(), cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Inbox(""); err != nil || len(r) != 1 {
		t.Fatalf("inbox after unlock: %v %v", r, err)
	}
	c.SignOut()
	for i, want := range []int{2, 1} {
		_, err := Unlock(context.Background(), cfg, []byte("9999"))
		if !errors.As(err, &wp) || wp.Remaining != want {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	_, err = Unlock(context.Background(), cfg, []byte("9999"))
	wantErr(t, err, ErrWiped)
	if _, err := os.Stat(path); !os.IsNotExist(err) || HasAccount(cfg) {
		t.Fatalf("store survives the wrong-PIN limit: %v", err)
	}
	_, err = Unlock(context.Background(), cfg, testPIN)
	wantErr(t, err, ErrNoAccount)
}

// TestAutoLock: idle beyond LockAfter locks; Touch postpones.
func TestAutoLock(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	clk := newFakeClock()
	cfg := Config{Clock: clk}
	cfg.Policy.LockAfter = 5 * time.Minute
	alice := signIn(t, srv, "alice", cfg)

	clk.Advance(4 * time.Minute)
	alice.c.Touch()
	clk.Advance(2 * time.Minute) // 6 min since start, 2 since the touch
	if alice.c.Locked() {
		t.Fatal("locked despite Touch")
	}
	clk.Advance(2*time.Minute + 59*time.Second)
	if alice.c.Locked() {
		t.Fatal("locked early")
	}
	clk.Advance(time.Second)
	if !alice.c.Locked() {
		t.Fatal("not locked after 5 idle minutes")
	}
	if err := alice.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	alice.waitOnline()
	clk.Advance(5 * time.Minute)
	if !alice.c.Locked() {
		t.Fatal("auto-lock not re-armed after unlock")
	}
}

// TestChangePINAndWipe: ChangePIN then unlock with the new PIN; WipeDevice
// removes the store and the keyring secret.
func TestChangePINAndWipe(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	cfg := testConfig(t)
	cfg.Policy.AllowKeyring = true
	alice := signIn(t, srv, "alice", cfg)
	if err := alice.c.ChangePIN([]byte("1111"), []byte("1357")); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("wrong old PIN: %v", err)
	}
	// The PIN rule holds at this door too, not only on the screens.
	if err := alice.c.ChangePIN(testPIN, []byte("13a7")); !errors.Is(err, ErrPINDigits) {
		t.Fatalf("a PIN with a letter: %v", err)
	}
	if err := alice.c.ChangePIN(testPIN, []byte("1357")); err != nil {
		t.Fatal(err)
	}
	alice.c.Lock()
	if err := alice.c.Unlock(context.Background(), testPIN); !errors.Is(err, ErrWrongPIN) {
		t.Fatalf("old PIN still works: %v", err)
	}
	if err := alice.c.Unlock(context.Background(), []byte("1357")); err != nil {
		t.Fatal(err)
	}
	alice.c.SignOut()
	c, err := UnlockWithKeyring(context.Background(), cfg)
	if err != nil {
		t.Fatalf("keyring unlock: %v", err)
	}
	if err := c.WipeDevice(); err != nil {
		t.Fatal(err)
	}
	if HasAccount(cfg) {
		t.Fatal("store survives WipeDevice")
	}
	n := 0
	cfg.Secrets.(*fakeKeyring).mu.Range(func(any, any) bool { n++; return true })
	if n != 0 {
		t.Fatal("keyring secret survives WipeDevice")
	}
	if _, ok := <-c.Changes(); ok {
		// drain: the channel must close after the final SignedOut
		for range c.Changes() {
		}
	}
}
