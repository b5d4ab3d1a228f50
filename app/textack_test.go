package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// TestMergeTextAck: strictest wins. Either side switches text
// acknowledgements off; words are those both accept.
func TestMergeTextAck(t *testing.T) {
	for _, c := range []struct {
		name      string
		base, org TextAckPolicy
		want      TextAckPolicy
	}{
		{"node silent on words", TextAckPolicy{}, TextAckPolicy{}, TextAckPolicy{}},
		{"node off", TextAckPolicy{}, TextAckPolicy{Off: true}, TextAckPolicy{Off: true}},
		{"device off, node on", TextAckPolicy{Off: true}, TextAckPolicy{Words: []string{"ack"}}, TextAckPolicy{Off: true, Words: []string{"ack"}}},
		{"node words", TextAckPolicy{}, TextAckPolicy{Words: []string{"ack", "roger"}}, TextAckPolicy{Words: []string{"ack", "roger"}}},
		{"both: common words", TextAckPolicy{Words: []string{"ACK", "acked"}}, TextAckPolicy{Words: []string{"ack", "roger"}}, TextAckPolicy{Words: []string{"ACK"}}},
		{"both: nothing in common", TextAckPolicy{Words: []string{"acked"}}, TextAckPolicy{Words: []string{"roger"}}, TextAckPolicy{Off: true}},
	} {
		got := mergeTextAck(c.base, c.org)
		if got.Off != c.want.Off || !slices.Equal(got.Words, c.want.Words) {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
	p := mergePolicy(Policy{}.withDefaults(), &OrgPolicy{Version: 2, TextAck: &TextAckPolicy{Off: true}})
	if !p.TextAck.Off || textAckRules(p).Off != true {
		t.Errorf("org policy off: %+v", p.TextAck)
	}
	w := orgPolicyFromWire(xmpp.OrgPolicy{Version: 3, TextAck: &xmpp.TextAckPolicy{Allowed: false}})
	if w.TextAck == nil || !w.TextAck.Off {
		t.Errorf("from the wire: %+v", w.TextAck)
	}
}

// TestTextAckEndsLadder: alice pages carol, whose client does not speak
// Rounds (slixmpp), STAT with a ladder to dave. Carol's "5 min" is shown
// under the page and the ladder goes on; her "ACK" acknowledges the page by
// text reply: the ladder ends (dave never gets a copy), the sender's view
// says how, the audit log has it and the conversation export says "text
// reply". With the org policy's <text-ack allowed='false'/> her "ack" is
// only a reply and the ladder escalates.
func TestTextAckEndsLadder(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "carol", "dave")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	dave := clinicalSignIn(t, srv, "dave", "phone", clk)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	carolJID := srv.JID("carol")
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: carolJID, Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	ladder := &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{To: dave.jid}}}

	sent, err := alice.c.SendClinical(carolJID, "MARKER-T K+ 6.9 bed 4", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: ladder})
	if err != nil {
		t.Fatal(err)
	}
	got, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "MARKER-T") })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got.Body, "\n"+`Reply "ACK" to acknowledge.`) {
		t.Fatalf("carol's client shows %q", got.Body)
	}
	row := func(id securestore.MessageID) MessageRow {
		r, _ := alice.messageRow(carolJID, id)
		return r
	}
	waitFor(t, "page delivered", 30*time.Second, func() bool { return row(sent.ID).Receipt.State >= securestore.ReceiptDelivered })

	if err := carol.Send(alice.jid, "5 min", "five"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "5 min shown under the page", 30*time.Second, func() bool {
		for _, r := range row(sent.ID).Responses {
			if r.ByText && r.Kind == ResponseText && r.Text == "5 min" {
				return true
			}
		}
		return false
	})
	if r := row(sent.ID); r.Receipt.State == securestore.ReceiptAcknowledged || r.Escalation == nil || !r.Escalation.Active {
		t.Fatalf("after 5 min: receipt %v ladder %+v", r.Receipt.State, r.Escalation)
	}

	if err := carol.Send(alice.jid, "ACK", "ack1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ladder ended by carol's text reply", 30*time.Second, func() bool {
		r := row(sent.ID)
		return r.Escalation != nil && !r.Escalation.Active && r.Escalation.EndReason == endAcknowledged &&
			slices.ContainsFunc(r.Responses, func(x ResponseRow) bool { return x.Kind == ResponseAck })
	})
	r := row(sent.ID)
	if r.Receipt.State != securestore.ReceiptAcknowledged || r.Escalation.EndedBy != "carol" {
		t.Fatalf("after ACK: receipt %v, ended by %q", r.Receipt.State, r.Escalation.EndedBy)
	}
	if i := slices.IndexFunc(r.Responses, func(x ResponseRow) bool { return x.Kind == ResponseAck }); i < 0 || !r.Responses[i].ByText {
		t.Fatalf("responses %+v lack the acknowledgement by text reply", r.Responses)
	}
	entries, err := alice.c.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(entries, func(e AuditRow) bool {
		return e.Kind == AuditTextAck && strings.Contains(e.Detail, fmt.Sprintf("message %d ", sent.ID)) && strings.Contains(e.Detail, carolJID) && !strings.Contains(e.Detail, "ACK")
	}) {
		t.Fatalf("no %s audit entry for message %d: %+v", AuditTextAck, sent.ID, entries)
	}
	var out bytes.Buffer
	if err := alice.c.ExportConversation(&out, carolJID, "json"); err != nil {
		t.Fatal(err)
	}
	var x conversationExport
	if err := json.Unmarshal(out.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(x.Messages, func(m ExportedMessage) bool { return m.ID == sent.ID }); i < 0 ||
		x.Messages[i].Receipt.AcknowledgedBy != "text reply" || x.Messages[i].Receipt.Acknowledged.IsZero() {
		t.Fatalf("export of the page: %+v", x.Messages)
	}
	page := x.Messages[slices.IndexFunc(x.Messages, func(m ExportedMessage) bool { return m.ID == sent.ID })]
	if i := slices.IndexFunc(x.Messages, func(m ExportedMessage) bool { return m.Body == "ACK" }); i < 0 ||
		x.Messages[i].Response != "ack (text reply)" || x.Messages[i].ResponseTo != page.OriginID || page.OriginID == "" {
		t.Fatalf("export of the reply: %+v", x.Messages)
	}
	clk.Advance(10 * time.Minute)
	time.Sleep(500 * time.Millisecond)
	if ms, _ := dave.c.Messages(alice.jid, 10); len(ms) != 0 {
		t.Fatalf("the ladder went on after the text acknowledgement: dave got %d messages", len(ms))
	}

	// The org policy switches text acknowledgements off.
	st, err := alice.c.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.c.applyOrgPolicy(st, OrgPolicy{Version: 2, TextAck: &TextAckPolicy{Off: true}}); err != nil {
		t.Fatal(err)
	}
	sent2, err := alice.c.SendClinical(carolJID, "MARKER-U SpO2 84% bed 7", ClinicalOptions{Urgency: securestore.UrgencyHigh, Ladder: ladder})
	if err != nil {
		t.Fatal(err)
	}
	got, err = carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "MARKER-U") })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got.Body, "\n"+xmpp.AckInstructionNoText) {
		t.Fatalf("with text acks off carol's client shows %q", got.Body)
	}
	waitFor(t, "second page delivered", 30*time.Second, func() bool { return row(sent2.ID).Receipt.State >= securestore.ReceiptDelivered })
	if err := carol.Send(alice.jid, "ack", "ack2"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ack shown as a reply", 30*time.Second, func() bool {
		return slices.ContainsFunc(row(sent2.ID).Responses, func(x ResponseRow) bool { return x.ByText && x.Text == "ack" })
	})
	if r := row(sent2.ID); r.Receipt.State == securestore.ReceiptAcknowledged || !r.Escalation.Active {
		t.Fatalf("with text acks off: receipt %v ladder %+v", r.Receipt.State, r.Escalation)
	}
	clk.Advance(5 * time.Minute)
	dave.waitIncoming(alice.jid, "MARKER-U")
}

// TestUnencryptedFileMarked: a file from a client without file encryption
// (slixmpp's plain XEP-0363 upload, https:// link with XEP-0066) is marked
// in the thread as having sat on the server in clear, before and after the
// download, and in the conversation export; an aesgcm:// file from the same
// client is not.
func TestUnencryptedFileMarked(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "carol")
	alice := signIn(t, srv, "alice", Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	carolJID := srv.JID("carol")
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: carolJID, Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	pdf, err := filepath.Abs("../sync/testdata/good_report.pdf")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := carol.UploadPlain(ctx, "upload."+srv.Domain, alice.jid, pdf, "plain.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain.URL, "http") {
		t.Fatalf("plain upload link %q", plain.URL)
	}
	if _, err := carol.Upload(ctx, "upload."+srv.Domain, alice.jid, pdf, "sealed.pdf"); err != nil {
		t.Fatal(err)
	}
	files := func() map[string]AttachmentRow {
		out := map[string]AttachmentRow{}
		ms, _ := alice.c.Messages(carolJID, 20)
		for _, m := range ms {
			for _, a := range m.Attachments {
				out[a.Name] = a
			}
		}
		return out
	}
	waitFor(t, "both files", 30*time.Second, func() bool { return len(files()) == 2 })
	f := files()
	if !f["plain.pdf"].Unencrypted || f["sealed.pdf"].Unencrypted {
		t.Fatalf("rows %+v", f)
	}
	st, err := alice.c.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"plain.pdf": "1", "sealed.pdf": ""} {
		a, err := st.Attachment(f[name].ID)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := st.Message(a.MessageID); err != nil || m.Extra[sync.ExtraAttachmentInClear] != want {
			t.Errorf("%s: the engine marked it %q (%v), want %q", name, m.Extra[sync.ExtraAttachmentInClear], err, want)
		}
	}
	row, err := alice.c.Download(ctx, f["plain.pdf"].ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !row.Unencrypted || !files()["plain.pdf"].Downloaded || !files()["plain.pdf"].Unencrypted {
		t.Fatalf("after download: %+v, %+v", row, files()["plain.pdf"])
	}
	var out bytes.Buffer
	if err := alice.c.ExportConversation(&out, carolJID, "csv"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "plain.pdf, application/pdf") || strings.Count(out.String(), "not encrypted]") != 1 {
		t.Fatalf("export:\n%s", out.String())
	}
}

// TestTextAckOfEscalatedCopy: the ladder's next target uses a client
// without Rounds. The escalated copy tells her how to acknowledge; her "ack"
// acknowledges the copy, which ends the whole ladder, and the first
// recipient (a Rounds user who never answered) is told no action is needed.
func TestTextAckOfEscalatedCopy(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	bob := clinicalSignIn(t, srv, "bob", "phone", clk)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	carolJID := srv.JID("carol")
	carol, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: carolJID, Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	sent, err := alice.c.SendClinical(bob.jid, "MARKER-E bed 9 hypotensive", ClinicalOptions{Urgency: securestore.UrgencyCritical,
		Ladder: &EscalationPolicy{After: 5 * time.Minute, Steps: []EscalationStep{{To: carolJID}}}})
	if err != nil {
		t.Fatal(err)
	}
	bob.waitIncoming(alice.jid, "MARKER-E")
	clk.Advance(5 * time.Minute)
	got, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "MARKER-E") })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got.Body, "\n"+`Reply "ACK" to acknowledge.`) {
		t.Fatalf("the escalated copy reads %q", got.Body)
	}
	waitFor(t, "copy delivered", 30*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && len(r.Escalation.Steps) == 1 && r.Escalation.Steps[0].Copy != 0 &&
			func() bool {
				c, _ := alice.messageRow(carolJID, r.Escalation.Steps[0].Copy)
				return c.Receipt.State >= securestore.ReceiptDelivered
			}()
	})
	if err := carol.Send(alice.jid, "ack", "ack-copy"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ladder ended by carol", 30*time.Second, func() bool {
		r, _ := alice.messageRow(bob.jid, sent.ID)
		return r.Escalation != nil && !r.Escalation.Active && r.Escalation.EndReason == endAcknowledged && r.Escalation.EndedBy == "carol"
	})
	bob.waitIncoming(alice.jid, "Acknowledged by carol at")
}

// TestOwnTextAckEndsOwnAlert: a responder who answers a page by typing
// "ack" in Rounds (instead of pressing Acknowledge) acknowledges it for the
// sender (acknowledgement by text reply), so her own alarm stops too, on
// the device she typed on and on her other device (which sees the reply as
// a carbon). Before, the sender's ladder ended while the responder's phone
// kept ringing every repeat.
func TestOwnTextAckEndsOwnAlert(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)
	desk := clinicalSignIn(t, srv, "bob", "desk", clk)
	sent, err := alice.c.SendClinical(phone.jid, "MARKER-OT bed 7 sats 84", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{phone, desk} {
		waitFor(t, "alert", 30*time.Second, func() bool { _, ok := alertOn(d, alice.jid); return ok })
	}
	if _, err := phone.c.Send(alice.jid, "ack"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sender sees it acknowledged", 30*time.Second, func() bool {
		r, _ := alice.messageRow(phone.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged
	})
	for name, d := range map[string]*device{"phone": phone, "desk": desk} {
		waitFor(t, name+"'s alert ends", 30*time.Second, func() bool { _, ok := alertOn(d, alice.jid); return !ok })
	}
	rings := urgentSounds(phone)
	clk.Advance(5 * time.Minute)
	time.Sleep(200 * time.Millisecond)
	if n := urgentSounds(phone) - rings; n != 0 {
		t.Fatalf("the phone rang %d more times after its user acknowledged by text", n)
	}
}

// Our own acknowledgement by text reply is sync's rule (sync/textack.go,
// ownTextReply), the same as the page sender's: the tests below each pin a
// point where the app's earlier copy of the rule (ownTextAcks) differed.

// TestOwnTextAckNamesOtherMessage: an own "ack" sent as an XEP-0461 reply
// to a routine message answers that message, not the page after it, so the
// page's alert keeps ringing; the same "ack" as a reply to the page ends
// it. (The app's copy ignored which message a reply names and ended the
// alert on the first "ack".)
func TestOwnTextAckNamesOtherMessage(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)
	if _, err := alice.c.Send(phone.jid, "MARKER-RT family is here"); err != nil {
		t.Fatal(err)
	}
	routine := phone.waitIncoming(alice.jid, "MARKER-RT")
	sent, err := alice.c.SendClinical(phone.jid, "MARKER-XR bed 3 sats 82", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	page := phone.waitIncoming(alice.jid, "MARKER-XR")
	waitFor(t, "alert", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return ok })

	toRoutine, err := phone.c.Reply(alice.jid, routine.ID, "ack", ClinicalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply to the routine message reaches alice", 30*time.Second, func() bool {
		ms, _ := alice.c.Messages(phone.jid, 50)
		return slices.ContainsFunc(ms, func(m MessageRow) bool { return !m.Outgoing && m.Body == "ack" })
	})
	waitFor(t, "the reply is sent", 30*time.Second, func() bool {
		r, _ := phone.messageRow(alice.jid, toRoutine.ID)
		return r.Receipt.State >= securestore.ReceiptSent
	})
	time.Sleep(300 * time.Millisecond)
	if _, ok := alertOn(phone, alice.jid); !ok {
		t.Fatal("an ack replying to a routine message ended the page's alert")
	}
	if r, _ := alice.messageRow(phone.jid, sent.ID); r.Receipt.State == securestore.ReceiptAcknowledged {
		t.Fatal("the sender counted an ack replying to a routine message")
	}

	if _, err := phone.c.Reply(alice.jid, page.ID, "ack", ClinicalOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the alert ends on the ack replying to the page", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return !ok })
	r, _ := phone.messageRow(alice.jid, page.ID)
	if !slices.ContainsFunc(r.Responses, func(x ResponseRow) bool { return x.Own && x.ByText && x.Kind == ResponseAck }) {
		t.Fatalf("page's responses on the phone: %+v", r.Responses)
	}
	waitFor(t, "the sender sees it acknowledged", 30*time.Second, func() bool {
		r, _ := alice.messageRow(phone.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged
	})
}

// TestOwnTextAckQuoteStripped: bob answers the page from another client
// (slixmpp) with an XEP-0461 reply whose quote is not in "> " lines, so the
// stored body keeps it; only his own words count, so the carbon of his
// "ack" ends the alert on his Rounds phone, as it acknowledges the page for
// alice. (The app's copy compared the whole body, quote included.)
func TestOwnTextAckQuoteStripped(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	laptop, err := testpeer.Start(ctx, t.TempDir(), testpeer.Options{
		JID: srv.JID("bob") + "/laptop", Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer laptop.Close()
	sent, err := alice.c.SendClinical(phone.jid, "MARKER-QS bed 5 K+ 7.1", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	phone.waitIncoming(alice.jid, "MARKER-QS")
	waitFor(t, "alert", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return ok })
	st, err := alice.c.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Message(sent.ID)
	if err != nil || m.OriginID == "" {
		t.Fatalf("alice's page: %+v, %v", m, err)
	}
	if err := laptop.Reply(alice.jid, "MARKER-QS bed 5 K+ 7.1\n", "ack", "own-quoted-ack", alice.jid, m.OriginID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the phone stores the carbon", 30*time.Second, func() bool {
		ms, _ := phone.c.Messages(alice.jid, 50)
		return slices.ContainsFunc(ms, func(m MessageRow) bool { return m.Outgoing && strings.HasSuffix(m.Body, "ack") })
	})
	waitFor(t, "the phone's alert ends", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return !ok })
	waitFor(t, "the sender sees it acknowledged", 30*time.Second, func() bool {
		r, _ := alice.messageRow(phone.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged
	})
}

// TestOwnTextAckOnlyWhenSent: an "ack" typed while the server cannot be
// reached waits in the Outbox and has acknowledged nothing: the alert keeps
// ringing until the server has the reply, then ends. (The app's copy ended
// the alert the moment the reply was queued.)
func TestOwnTextAckOnlyWhenSent(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	clk := clinicalClock()
	alice := clinicalSignIn(t, srv, "alice", "phone", clk)
	phone := clinicalSignIn(t, srv, "bob", "phone", clk)
	sent, err := alice.c.SendClinical(phone.jid, "MARKER-OS bed 8 GCS 9", ClinicalOptions{Urgency: securestore.UrgencyCritical, Ladder: &EscalationPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	phone.waitIncoming(alice.jid, "MARKER-OS")
	waitFor(t, "alert", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return ok })

	srv.Halt()
	waitFor(t, "phone offline", 30*time.Second, func() bool { return phone.c.Connection().Connectivity != 2 })
	id, err := phone.c.Send(alice.jid, "ack")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply is shown", 30*time.Second, func() bool { _, ok := phone.messageRow(alice.jid, id); return ok })
	time.Sleep(300 * time.Millisecond)
	if r, _ := phone.messageRow(alice.jid, id); r.Receipt.State != securestore.ReceiptQueued {
		t.Fatalf("reply state %v while the server is down", r.Receipt.State)
	}
	if _, ok := alertOn(phone, alice.jid); !ok {
		t.Fatal("an ack still in the Outbox ended the alert")
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply is sent", 60*time.Second, func() bool {
		r, _ := phone.messageRow(alice.jid, id)
		return r.Receipt.State >= securestore.ReceiptSent
	})
	waitFor(t, "the alert ends once the server has the ack", 30*time.Second, func() bool { _, ok := alertOn(phone, alice.jid); return !ok })
	waitFor(t, "the sender sees it acknowledged", 60*time.Second, func() bool {
		r, _ := alice.messageRow(phone.jid, sent.ID)
		return r.Receipt.State == securestore.ReceiptAcknowledged
	})
}
