package app

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestLadderStateMachine walks a three-step ladder through its states
// without a server: due times, a step that reaches nobody, exhaustion, the
// end on an acknowledgement, and a JSON round trip (what a restart reads).
func TestLadderStateMachine(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	p := EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{
		{To: "osei@h.org"}, {Role: "Cardiology on call"}, {Room: "icu@conference.h.org"},
	}}
	l := newLadder("bob@h.org", 7, "orig-1", securestore.UrgencyCritical, p, t0)
	if !l.active() || l.due(t0.Add(4*time.Minute+59*time.Second)) || !l.due(t0.Add(5*time.Minute)) {
		t.Fatalf("first step due at %v", l.DueAt)
	}
	step, n, ok := l.pending()
	if !ok || n != 1 || step.To != "osei@h.org" {
		t.Fatalf("pending = %+v %d %v", step, n, ok)
	}
	t1 := t0.Add(5 * time.Minute)
	l.record(reachedStep{Step: 1, Target: step, JID: "osei@h.org", Copy: 11, At: t1}, t1)
	if l.DueAt != t1.Add(5*time.Minute) || l.Next != 1 {
		t.Fatalf("after step 1: next %d due %v", l.Next, l.DueAt)
	}
	if got := l.waited(t1); got != "5 min" {
		t.Fatalf("waited %q", got)
	}
	// Step 2 reaches nobody (role unstaffed): step 3 is due at once.
	t2 := t1.Add(5 * time.Minute)
	step, n, _ = l.pending()
	l.record(reachedStep{Step: n, Target: step, Failed: "no one holds this role now", At: t2}, t2)
	if !l.due(t2) {
		t.Fatal("a failed step does not move on at once")
	}
	step, n, _ = l.pending()
	if n != 3 || step.Room == "" {
		t.Fatalf("step 3 = %+v", step)
	}
	l.record(reachedStep{Step: 3, Target: step, JID: "icu@conference.h.org", Copy: 13, At: t2}, t2)
	if _, _, ok := l.pending(); ok {
		t.Fatal("a fourth step")
	}
	if !l.due(t2.Add(5 * time.Minute)) {
		t.Fatal("exhaustion notice not due after the last step's wait")
	}
	l.exhaust()
	if !l.active() || !l.DueAt.IsZero() || l.due(t2.Add(time.Hour)) {
		t.Fatal("exhausted ladder must stay active (waiting for an ack) with nothing due")
	}
	if !l.covers(7) || !l.covers(11) || !l.covers(13) || l.covers(12) || l.covers(0) {
		t.Fatal("covers")
	}

	// What a restart reads back.
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var back ladderState
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Next != 3 || len(back.Reached) != 3 || back.Reached[1].Failed == "" || !back.Exhausted || back.After != 5*time.Minute || !back.Started.Equal(t0) {
		t.Fatalf("round trip: %+v", back)
	}

	if !l.end(t2.Add(time.Hour), "Dr Osei", endAcknowledged) || l.active() || l.end(t2, "x", endCancelled) {
		t.Fatal("end")
	}
	if l.EndedBy != "Dr Osei" || l.EndReason != endAcknowledged {
		t.Fatalf("ended %+v", l)
	}
}

// TestLadderWithoutSteps only tracks the acknowledgement.
func TestLadderWithoutSteps(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)
	l := newLadder("bob@h.org", 7, "o", securestore.UrgencyHigh, EscalationPolicy{}, t0)
	if !l.active() || !l.DueAt.IsZero() || l.due(t0.Add(24*time.Hour)) {
		t.Fatalf("%+v", l)
	}
	if l.After != DefaultEscalationAfter {
		t.Fatalf("after %v", l.After)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30 s", 5 * time.Minute: "5 min", 10*time.Minute + 20*time.Second: "10 min",
		119 * time.Minute: "119 min", 150 * time.Minute: "2 h 30 min",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseHistory(t *testing.T) {
	h, err := parseHistory(`[{"body":"5 mg","at":"2026-11-22T14:00:00Z"},{"body":"50 mg","at":"2026-11-22T14:01:00Z"}]`)
	if err != nil || len(h) != 2 || h[0].Body != "5 mg" || h[1].At.Minute() != 1 {
		t.Fatalf("%+v %v", h, err)
	}
	if h, err := parseHistory(""); err != nil || h != nil {
		t.Fatal("empty history")
	}
	if _, err := parseHistory("{broken"); err == nil {
		t.Fatal("broken history accepted")
	}
}

// TestLadderThreeStepsEndsOnAck: bob does not acknowledge a STAT message;
// every 5 minutes alice's client escalates — to carol (a person), to
// "Cardiology on call" (resolved at that moment to dave), to the ICU room —
// posting each step into bob's thread; erin acknowledges the room copy at
// step 3 and the ladder ends; bob, carol and dave are told no action is
// needed and their alerts stop.
func TestLadderThreeStepsEndsOnAck(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol", "dave", "erin")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)
	dave := clinicalSignIn(t, srv, "dave", "phone", clk)
	erin := clinicalSignIn(t, srv, "erin", "phone", clk)
	room := "icu@conference." + srv.Domain
	if _, err := erin.c.CreateRoom(room, "", "ICU", []string{alice.jid}); err != nil {
		t.Fatal(err)
	}
	st, _ := alice.c.unlocked()
	now := clk.Now()
	// dave holds the role only from 8 minutes on: resolved when the step
	// fires (10 min), not when the message was sent.
	if err := alice.c.applySchedule(st, []Shift{
		{Role: "Cardiology on call", JID: carol.jid, From: now.Add(-time.Hour), Until: now.Add(8 * time.Minute)},
		{Role: "Cardiology on call", JID: dave.jid, From: now.Add(8 * time.Minute), Until: now.Add(8 * time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	sent, err := alice.c.SendClinical(bob.jid, "MARKER-L bed 9 hypotensive", ClinicalOptions{Urgency: securestore.UrgencyCritical,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{To: carol.jid}, {Role: "Cardiology on call"}, {Room: room}}}})
	if err != nil {
		t.Fatal(err)
	}
	bob.waitIncoming(alice.jid, "MARKER-L")

	clk.Advance(5 * time.Minute)
	carol.waitIncoming(alice.jid, "MARKER-L")
	waitFor(t, "carol alerted", 30*time.Second, func() bool { _, ok := alertOn(carol, alice.jid); return ok })
	bob.waitIncoming(alice.jid, "Escalated to carol: not acknowledged in 5 min")

	clk.Advance(5 * time.Minute)
	dave.waitIncoming(alice.jid, "MARKER-L")
	waitFor(t, "dave alerted", 30*time.Second, func() bool { _, ok := alertOn(dave, alice.jid); return ok })
	notice := bob.waitIncoming(alice.jid, "Escalated to dave (Cardiology on call): not acknowledged in 10 min")
	if !notice.Notice || notice.EscalationStep != 2 {
		t.Fatalf("notice row %+v", notice)
	}

	clk.Advance(5 * time.Minute)
	cp := erin.waitIncoming(room, "MARKER-L")
	if !cp.AckRequired || cp.EscalationStep != 3 {
		t.Fatalf("room copy %+v", cp)
	}
	bob.waitIncoming(alice.jid, "Escalated to icu: not acknowledged in 15 min")
	r, _ := alice.messageRow(bob.jid, sent.ID)
	if r.Escalation == nil || !r.Escalation.Active || len(r.Escalation.Steps) != 3 {
		t.Fatalf("sender's ladder %+v", r.Escalation)
	}
	if s := r.Escalation.Steps; s[0].To != carol.jid || s[1].To != dave.jid || s[1].Role != "Cardiology on call" || !s[2].Room || s[2].Copy == 0 {
		t.Fatalf("steps %+v", s)
	}

	if err := erin.c.Respond(room, cp.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ladder ended by erin", 30*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && !r.Escalation.Active && r.Escalation.EndReason == endAcknowledged && r.Escalation.EndedBy == "erin"
	})
	for _, d := range []*device{carol, dave, bob} {
		d.waitIncoming(alice.jid, "Acknowledged by erin at")
		waitFor(t, d.jid+" alert ends", 30*time.Second, func() bool { _, ok := alertOn(d, alice.jid); return !ok })
	}
	waitFor(t, "sender unpinned", 30*time.Second, func() bool { r, _ := alice.row(bob.jid); return !r.Urgent })
	// Nothing more happens.
	ms, _ := bob.c.Messages(alice.jid, 100)
	clk.Advance(30 * time.Minute)
	time.Sleep(300 * time.Millisecond)
	if ms2, _ := bob.c.Messages(alice.jid, 100); len(ms2) != len(ms) {
		t.Fatalf("ladder went on after the ack: %d → %d messages", len(ms), len(ms2))
	}
}

// TestLadderResumesAfterRestart: alice's client stops 3 minutes into a
// 5-minute step; after a restart the step fires 2 minutes later, not 5, and
// not at once.
func TestLadderResumesAfterRestart(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)

	t0 := clk.Now()
	sent, err := alice.c.SendClinical(bob.jid, "MARKER-S sats 84%", ClinicalOptions{Urgency: securestore.UrgencyHigh,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{To: carol.jid}}}})
	if err != nil {
		t.Fatal(err)
	}
	bob.waitIncoming(alice.jid, "MARKER-S")
	clk.Advance(3 * time.Minute)
	alice.c.SignOut()

	c2, err := Unlock(t.Context(), alice.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	again := &device{t: t, cfg: alice.cfg, c: c2, notifier: alice.notifier, sound: alice.sound, jid: alice.jid}
	again.collect()
	t.Cleanup(c2.SignOut)
	again.waitOnline()
	r, _ := again.messageRow(bob.jid, sent.ID)
	if r.Escalation == nil || !r.Escalation.Active || !r.Escalation.NextAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("restored ladder %+v", r.Escalation)
	}
	if row, _ := again.row(bob.jid); !row.Urgent {
		t.Fatal("not pinned after restart")
	}
	clk.Advance(2*time.Minute - time.Second)
	time.Sleep(500 * time.Millisecond)
	if ms, _ := carol.c.Messages(alice.jid, 10); len(ms) != 0 {
		t.Fatal("escalated before the remaining time")
	}
	clk.Advance(time.Second)
	cp := carol.waitIncoming(alice.jid, "MARKER-S")
	bob.waitIncoming(alice.jid, "Escalated to carol: not acknowledged in 5 min")
	waitFor(t, "carol alerted", 30*time.Second, func() bool { _, ok := alertOn(carol, alice.jid); return ok })

	// Recalling the original recalls the escalated copy too and ends the
	// ladder.
	if err := again.c.Recall(bob.jid, sent.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "copy recalled at carol", 30*time.Second, func() bool {
		r, _ := carol.messageRow(alice.jid, cp.ID)
		return !r.Recalled.IsZero()
	})
	waitFor(t, "carol's alert ends", 30*time.Second, func() bool { _, ok := alertOn(carol, alice.jid); return !ok })
	r, _ = again.messageRow(bob.jid, sent.ID)
	if r.Escalation == nil || r.Escalation.Active || r.Escalation.EndReason != endRecalled {
		t.Fatalf("ladder after recall %+v", r.Escalation)
	}
}

// TestUrgentInboxPinning: an unacknowledged STAT conversation stays on top
// of a newer routine one until acknowledged.
func TestUrgentInboxPinning(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)

	if _, err := alice.c.SendClinical(bob.jid, "MARKER-P", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}}); err != nil {
		t.Fatal(err)
	}
	msg := bob.waitIncoming(alice.jid, "MARKER-P")
	if _, err := carol.c.Send(bob.jid, "coffee?"); err != nil {
		t.Fatal(err)
	}
	bob.waitIncoming(carol.jid, "coffee?")
	rows, _ := bob.c.Inbox("")
	if len(rows) != 2 || rows[0].ID != alice.jid || !rows[0].Urgent || rows[1].Urgent {
		t.Fatalf("inbox %+v", rows)
	}
	if err := bob.c.MarkShown(alice.jid, msg.ID); err != nil {
		t.Fatal(err)
	}
	if rows, _ := bob.c.Inbox(""); rows[0].ID != alice.jid {
		t.Fatal("reading unpinned an ack-required conversation")
	}
	if err := bob.c.Respond(alice.jid, msg.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	// Unpinned: the order is by activity again (the ack itself is the
	// newest message there).
	if rows, _ := bob.c.Inbox(""); rows[0].Urgent || rows[1].Urgent {
		t.Fatalf("inbox after ack %+v", rows)
	}

	// A routine message asking for an acknowledgement: no ringing, but it
	// stays pinned until acknowledged.
	rings := urgentSounds(bob)
	if _, err := carol.c.SendClinical(bob.jid, "MARKER-P2 please confirm", ClinicalOptions{AckRequired: true, Ladder: &EscalationPolicy{}}); err != nil {
		t.Fatal(err)
	}
	in := bob.waitIncoming(carol.jid, "MARKER-P2")
	waitFor(t, "silent alert", 30*time.Second, func() bool { _, ok := alertOn(bob, carol.jid); return ok })
	if a, _ := alertOn(bob, carol.jid); a.Urgency != securestore.UrgencyNormal || !a.AckRequired || a.MaxRepeats != 0 || !a.NextAt.IsZero() {
		t.Fatalf("routine ack alert %+v", a)
	}
	clk.Advance(10 * time.Minute)
	if urgentSounds(bob) != rings {
		t.Fatal("a routine message rang as urgent")
	}
	if r, _ := bob.row(carol.jid); !r.Urgent {
		t.Fatal("routine ack-required message not pinned")
	}
	if err := bob.c.Respond(carol.jid, in.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	if r, _ := bob.row(carol.jid); r.Urgent {
		t.Fatal("pinned after the ack")
	}
}

// TestLadderFromPolicy: without per-message options the policy decides —
// SendUrgent starts the policy's ladder (a role, resolved when the step
// fires) and the recipient's alert repeats at the policy's interval and
// count. Sending to a role says whom it reached; an order to someone not on
// the order list is refused before anything is stored.
func TestLadderFromPolicy(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol", "dave")
	clk := clinicalClock()
	alice := signIn(t, srv, "alice", Config{Clock: clk, Resource: "phone", Policy: Policy{LockAfter: 24 * time.Hour,
		Escalation: EscalationPolicy{After: 3 * time.Minute, Steps: []EscalationStep{{Role: "Cardiology on call"}}}}})
	bob := signIn(t, srv, "bob", Config{Clock: clk, Resource: "phone", Policy: Policy{LockAfter: 24 * time.Hour,
		UrgentRepeat: time.Minute, UrgentRepeatCount: 2}})
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)
	dave := clinicalSignIn(t, srv, "dave", "phone", clk)
	st, _ := alice.c.unlocked()
	now := clk.Now()
	if err := alice.c.applySchedule(st, []Shift{{Role: "Cardiology on call", JID: dave.jid, From: now.Add(-time.Hour), Until: now.Add(8 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}

	id, err := alice.c.SendUrgent(bob.jid, "MARKER-Q", securestore.UrgencyHigh)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob alerted", 30*time.Second, func() bool { return urgentSounds(bob) == 1 })
	if a, _ := alertOn(bob, alice.jid); a.MaxRepeats != 2 {
		t.Fatalf("policy repeat count not applied: %+v", a)
	}
	clk.Advance(time.Minute)
	clk.Advance(time.Minute)
	clk.Advance(time.Minute) // and the ladder's step falls due
	if n := urgentSounds(bob); n != 3 {
		t.Fatalf("bob rang %d times, want 1 + 2 repeats a minute apart", n)
	}
	dave.waitIncoming(alice.jid, "MARKER-Q")
	bob.waitIncoming(alice.jid, "Escalated to dave (Cardiology on call): not acknowledged in 3 min")
	if r, _ := alice.messageRow(bob.jid, id); r.Escalation == nil || len(r.Escalation.Steps) != 1 || r.Escalation.Steps[0].ToName != "dave" {
		t.Fatalf("ladder %+v", r.Escalation)
	}

	sent, err := alice.c.SendClinical("", "MARKER-role please call", ClinicalOptions{Role: "cardiology ON CALL"})
	if err != nil {
		t.Fatal(err)
	}
	if sent.To != dave.jid || sent.Conversation != dave.jid || sent.Role == nil || sent.Role.To != dave.jid || sent.Role.Message != sent.ID || sent.Escalation {
		t.Fatalf("sent to a role: %+v %+v", sent, sent.Role)
	}
	in := dave.waitIncoming(alice.jid, "MARKER-role")
	if in.Urgency != securestore.UrgencyNormal || in.AckRequired {
		t.Fatalf("routine role message %+v", in)
	}
	// The role travels as the schedule spells it, not as the sender typed it.
	if dst, err := dave.c.unlocked(); err != nil {
		t.Fatal(err)
	} else if m, err := dst.Message(in.ID); err != nil || m.Extra[extraRole] != "Cardiology on call" {
		t.Fatalf("dave's copy names the role %q (%v)", m.Extra[extraRole], err)
	}

	before, _ := alice.c.Messages(carol.jid, 10)
	if _, err := alice.c.SendClinical(carol.jid, "MARKER-order 40 mg", ClinicalOptions{Order: true}); !errors.Is(err, ErrNotOrderRecipient) {
		t.Fatalf("order to carol: %v", err)
	}
	if after, _ := alice.c.Messages(carol.jid, 10); len(after) != len(before) {
		t.Fatal("a refused order was stored")
	}
}

// TestLadderUnstaffedRoleAndExhaustion: a role nobody holds is reported in
// the thread and the next step follows at once; after the last step's wait
// the thread says nobody acknowledged, and the message stays pinned.
func TestLadderUnstaffedRoleAndExhaustion(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)

	sent, err := alice.c.SendClinical(bob.jid, "MARKER-N", ClinicalOptions{Urgency: securestore.UrgencyHigh,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{Role: "Night registrar"}, {To: carol.jid}}}})
	if err != nil {
		t.Fatal(err)
	}
	bob.waitIncoming(alice.jid, "MARKER-N")
	clk.Advance(5 * time.Minute)
	bob.waitIncoming(alice.jid, "Could not escalate to Night registrar: no one holds this role now")
	carol.waitIncoming(alice.jid, "MARKER-N")
	bob.waitIncoming(alice.jid, "Escalated to carol: not acknowledged in 5 min")
	clk.Advance(5 * time.Minute)
	bob.waitIncoming(alice.jid, "Not acknowledged by anyone on the escalation ladder after 10 min")
	r, _ := alice.messageRow(bob.jid, sent.ID)
	if e := r.Escalation; e == nil || !e.Active || !e.Exhausted || !e.NextAt.IsZero() || len(e.Steps) != 2 || e.Steps[0].Failed == "" || e.Steps[0].Copy != 0 || e.Steps[1].Copy == 0 {
		t.Fatalf("exhausted ladder %+v", r.Escalation)
	}
	if row, _ := alice.row(bob.jid); !row.Urgent {
		t.Fatal("an unacknowledged message unpinned after the ladder ran out")
	}
}

// TestLadderStepToMissingRoomMovesOn: a ladder's first step names a room
// that does not exist (a typo). The step fails loudly: the ladder records
// why, bob's thread (and so alice, the sender) gets "Could not escalate",
// the next step (carol) is taken at once, not a step later, and the server
// still has no such room (joining did not create it, nothing was posted).
func TestLadderStepToMissingRoomMovesOn(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	carol := clinicalSignIn(t, srv, "carol", "phone", clk)
	missing := "icu-tpyo@conference." + srv.Domain
	sent, err := alice.c.SendClinical(bob.jid, "MARKER-R bed 4 desaturating", ClinicalOptions{Urgency: securestore.UrgencyCritical,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{Room: missing}, {To: carol.jid}}}})
	if err != nil {
		t.Fatal(err)
	}
	bob.waitIncoming(alice.jid, "MARKER-R")

	clk.Advance(5 * time.Minute)
	bob.waitIncoming(alice.jid, "Could not escalate to icu-tpyo: there is no such room")
	carol.waitIncoming(alice.jid, "MARKER-R") // at once: no further 5 minutes
	waitFor(t, "both steps on the sender's ladder", 30*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && len(r.Escalation.Steps) == 2
	})
	r, _ := alice.messageRow(bob.jid, sent.ID)
	s := r.Escalation.Steps
	if s[0].Failed != "there is no such room" || s[0].Copy != 0 || s[1].To != carol.jid || s[1].Copy == 0 || s[1].Failed != "" {
		t.Fatalf("steps %+v", s)
	}
	st, _ := alice.c.unlocked()
	if _, err := st.Conversation(missing); !errors.Is(err, securestore.ErrNotFound) {
		t.Fatalf("the missing room became a conversation: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("carol"), Resource: "disco",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var se *xmpp.StanzaError
	if _, err := c.QueryDiscoInfo(ctx, missing); !errors.As(err, &se) || se.Condition != "item-not-found" {
		t.Fatalf("disco#info on the mistyped room: %v; the escalation created it", err)
	}
}
