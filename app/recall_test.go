package app

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
)

// TestRecallAcrossDevices: alice recalls a STAT message from her phone; on
// bob's phone and desk and on alice's desk the message becomes the
// tombstone "Message recalled at …", bob's alerts stop, the attachment key
// is discarded, and the recall is audited. Only the sender may recall.
func TestRecallAcrossDevices(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	aPhone := clinicalSignIn(t, srv, "alice", "phone", clk)
	aDesk := clinicalSignIn(t, srv, "alice", "desk", clk)
	bPhone := clinicalSignIn(t, srv, "bob", "phone", clk)
	bDesk := clinicalSignIn(t, srv, "bob", "desk", clk)

	sent, err := aPhone.c.SendClinical(bPhone.jid, "MARKER-R wrong patient", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	inPhone := bPhone.waitIncoming(aPhone.jid, "MARKER-R")
	bDesk.waitIncoming(aPhone.jid, "MARKER-R")
	for _, d := range []*device{bPhone, bDesk} {
		waitFor(t, "alert", 30*time.Second, func() bool { _, ok := alertOn(d, aPhone.jid); return ok })
	}
	// An attachment the message shared, as the attachment layer stores it.
	st, _ := bPhone.c.unlocked()
	if err := st.PutAttachment(securestore.Attachment{ID: "att-1", MessageID: inPhone.ID, Name: "x.jpg", URL: "https://up.example/x",
		Key: make([]byte, 44), SHA256: make([]byte, 32)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice's desk has the message", 30*time.Second, func() bool {
		ms, _ := aDesk.c.Messages(bPhone.jid, 10)
		return len(ms) == 1 && strings.Contains(ms[0].Body, "MARKER-R")
	})

	if err := bPhone.c.Recall(aPhone.jid, inPhone.ID); !errors.Is(err, ErrNotYourMessage) {
		t.Fatalf("recall of someone else's message: %v", err)
	}
	if err := aPhone.c.Recall(bPhone.jid, sent.ID); err != nil {
		t.Fatal(err)
	}
	if err := aPhone.c.Recall(bPhone.jid, sent.ID); err != nil {
		t.Fatalf("second recall: %v", err)
	}
	tomb := func(d *device, conv string) {
		t.Helper()
		waitFor(t, d.jid+"/"+d.cfg.Resource+" tombstone", 30*time.Second, func() bool {
			ms, _ := d.c.Messages(conv, 10)
			for _, m := range ms {
				if strings.Contains(m.Body, "MARKER") {
					return false
				}
			}
			return len(ms) >= 1 && !ms[0].Recalled.IsZero() && ms[0].Body == d.c.tombstone(ms[0].Recalled) &&
				strings.HasPrefix(ms[0].Body, "Message recalled at ")
		})
	}
	tomb(aPhone, bPhone.jid)
	tomb(aDesk, bPhone.jid)
	tomb(bPhone, aPhone.jid)
	tomb(bDesk, aPhone.jid)
	for _, d := range []*device{bPhone, bDesk} {
		waitFor(t, "alert ends on recall", 30*time.Second, func() bool { _, ok := alertOn(d, aPhone.jid); return !ok })
		if r, _ := d.row(aPhone.jid); r.Urgent || strings.Contains(r.Preview, "MARKER") {
			t.Fatalf("inbox row after recall %+v", r)
		}
	}
	if r, _ := aPhone.row(bPhone.jid); r.Urgent {
		t.Fatal("a recalled message still waits for its acknowledgement")
	}
	if a, err := st.Attachment("att-1"); !errors.Is(err, securestore.ErrNotFound) && (err != nil || len(a.Key) != 0) {
		t.Fatalf("attachment key kept after recall: %+v %v", a, err)
	}
	entries, _ := aPhone.c.AuditEntries()
	found := false
	for _, e := range entries {
		if e.Kind == securestore.AuditRecall {
			found = true
			if strings.Contains(e.Detail, "MARKER") {
				t.Fatalf("PHI in the audit: %q", e.Detail)
			}
		}
	}
	if !found {
		t.Fatal("recall not audited")
	}
	if err := aPhone.c.Correct(bPhone.jid, sent.ID, "fixed"); !errors.Is(err, ErrRecalled) {
		t.Fatalf("correcting a recalled message: %v", err)
	}
}

// TestCorrectionHistory: alice corrects a dose twice; bob sees the last
// text marked corrected, and both keep the earlier texts with their times.
func TestCorrectionHistory(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)

	id, err := alice.c.Send(bob.jid, "give 5 mg")
	if err != nil {
		t.Fatal(err)
	}
	in := bob.waitIncoming(alice.jid, "give 5 mg")
	if err := bob.c.Correct(alice.jid, in.ID, "give 0 mg"); !errors.Is(err, ErrNotYourMessage) {
		t.Fatalf("correcting someone else's message: %v", err)
	}
	if err := alice.c.Correct(bob.jid, id, "  "); !errors.Is(err, ErrEmptyMessage) {
		t.Fatalf("empty correction: %v", err)
	}
	if err := alice.c.Correct(bob.jid, id, "give 50 mg"); err != nil {
		t.Fatal(err)
	}
	if err := alice.c.Correct(bob.jid, id, "give 25 mg"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob sees the correction", 30*time.Second, func() bool {
		r, _ := bob.messageRow(alice.jid, in.ID)
		return r.Body == "give 25 mg" && r.Corrected && !r.CorrectedAt.IsZero()
	})
	for _, c := range []struct {
		d  *device
		id securestore.MessageID
	}{{alice, id}, {bob, in.ID}} {
		h, err := c.d.c.History(c.id)
		if err != nil || len(h) != 2 || h[0].Body != "give 5 mg" || h[1].Body != "give 50 mg" || h[0].At.IsZero() || h[1].At.Before(h[0].At) {
			t.Fatalf("%s history %+v %v", c.d.jid, h, err)
		}
	}
	if r, _ := bob.messageRow(alice.jid, in.ID); r.ID != in.ID {
		t.Fatal("correction made a new message")
	}
	if ms, _ := bob.c.Messages(alice.jid, 10); len(ms) != 1 {
		t.Fatalf("%d messages after two corrections", len(ms))
	}
}

// TestRecallAttachment: recalling a message that shared a file makes the
// file unreadable on both sides: the recipient's downloaded copy and the
// link carrying its key are gone, and so is the sender's.
func TestRecallAttachment(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	pdf := engineFixture(t, "good_report.pdf")
	id, err := alice.c.SendFile(t.Context(), bob.jid, "report.pdf", bytes.NewReader(pdf), int64(len(pdf)), AttachOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var in MessageRow
	waitFor(t, "bob gets the file", 30*time.Second, func() bool {
		ms, _ := bob.c.Messages(alice.jid, 10)
		if len(ms) == 1 && len(ms[0].Attachments) == 1 {
			in = ms[0]
			return true
		}
		return false
	})
	att := in.Attachments[0].ID
	if _, err := bob.c.Download(t.Context(), att, nil); err != nil {
		t.Fatal(err)
	}
	if f, _, err := bob.c.OpenAttachment(att); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	own, _ := alice.messageRow(bob.jid, id)
	if len(own.Attachments) != 1 {
		t.Fatalf("sender's row %+v", own)
	}
	if err := alice.c.Recall(bob.jid, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "recalled at bob", 30*time.Second, func() bool {
		r, _ := bob.messageRow(alice.jid, in.ID)
		return !r.Recalled.IsZero()
	})
	r, _ := bob.messageRow(alice.jid, in.ID)
	if len(r.Attachments) != 0 {
		t.Fatalf("recalled row still shows files: %+v", r.Attachments)
	}
	if _, _, err := bob.c.OpenAttachment(att); err == nil {
		t.Fatal("the recipient can still open a recalled file")
	}
	st, _ := bob.c.unlocked()
	waitFor(t, "the link with the file's key goes", 20*time.Second, func() bool {
		m, err := st.Message(in.ID)
		return err == nil && m.Extra[sync.ExtraAttachmentURL] == ""
	})
	if _, _, err := alice.c.OpenAttachment(own.Attachments[0].ID); err == nil {
		t.Fatal("the sender can still open a recalled file")
	}
}
