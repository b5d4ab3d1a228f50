//go:build unix

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// respond answers every incoming message with kind, as a physician tapping
// the quick response would.
func respond(kind sync.ResponseKind) func(p *peer, m securestore.Message) {
	return func(p *peer, m securestore.Message) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := p.session.Respond(ctx, m.ConversationID, m.ID, kind, ""); err != nil {
				p.t.Logf("%s: respond: %v", p.jid, err)
			}
		}()
	}
}

func sendArgs(t *testing.T, srv *testserver.Server, state string, extra ...string) []string {
	return append(append([]string{"send"}, botArgs(t, srv, "lab.bot", state)...), extra...)
}

// TestSendAcknowledged: a STAT page to a physician who acknowledges it; the
// bot exits 0 with "acknowledged" and who. The physician's copy carries the
// urgency and the ack request.
func TestSendAcknowledged(t *testing.T) { testserver.EachServer(t, testSendAcknowledged) }

func testSendAcknowledged(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	doc := startPeer(t, srv, "dr.osei", respond(sync.ResponseAck))
	code, out, _ := runCLI(t, "K+ 6.9 mmol/L, bed 4", sendArgs(t, srv, t.TempDir(),
		"--to", srv.JID("dr.osei"), "--urgency", "stat", "--wait", "ack", "--timeout", "60s")...)
	if code != ExitOK || !strings.HasPrefix(out, "acknowledged "+srv.JID("dr.osei")+" ") {
		t.Fatalf("exit %d, stdout %q; want 0 and acknowledged", code, out)
	}
	ms := doc.messages()
	if len(ms) != 1 || ms[0].Urgency != securestore.UrgencyCritical || ms[0].Extra[sync.ExtraAck] != "required" || ms[0].Body != "K+ 6.9 mmol/L, bed 4" {
		t.Fatalf("physician received %+v", ms)
	}
}

// TestSendDeclined: the recipient declines; exit 6.
func TestSendDeclined(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	startPeer(t, srv, "dr.osei", respond(sync.ResponseDecline))
	code, out, errOut := runCLI(t, "Troponin rising, bed 9", sendArgs(t, srv, t.TempDir(),
		"--to", srv.JID("dr.osei"), "--urgency", "urgent", "--wait", "ack", "--timeout", "60s")...)
	if code != ExitDeclined || !strings.HasPrefix(out, "declined "+srv.JID("dr.osei")) || !strings.Contains(errOut, "declined") {
		t.Fatalf("exit %d, stdout %q; want %d and declined", code, out, ExitDeclined)
	}
}

// TestDeclineByThirdPartyIgnored: only the page's recipient can decline it.
// Someone else who learned the page's origin id (it is in every copy) and
// sends a decline naming it from their own chat does not end the wait: the
// engine resolves a response within its conversation only, and the headless
// sender takes the engine's word instead of matching ids again.
func TestDeclineByThirdPartyIgnored(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei", "nurse.kim")
	nurse := startPeer(t, srv, "nurse.kim", nil)
	startPeer(t, srv, "dr.osei", func(p *peer, m securestore.Message) {
		read(p, m)
		go func() {
			now := time.Now()
			copied, err := nurse.store.AppendMessages([]securestore.Message{{ConversationID: srv.JID("lab.bot"),
				From: srv.JID("lab.bot"), To: nurse.jid, Direction: securestore.Incoming, Body: "a copy",
				OriginID: m.OriginID, Timestamp: now, ReceivedAt: now}})
			if err != nil || len(copied) != 1 {
				p.t.Errorf("copying the page to the nurse's store: %v", err)
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := nurse.session.Respond(ctx, srv.JID("lab.bot"), copied[0].ID, sync.ResponseDecline, ""); err != nil {
				p.t.Errorf("nurse's decline: %v", err)
			}
		}()
	})
	code, out, errOut := runCLI(t, "Troponin rising, bed 9", sendArgs(t, srv, t.TempDir(),
		"--to", srv.JID("dr.osei"), "--urgency", "urgent", "--wait", "ack", "--timeout", "6s")...)
	if code != ExitTimedOut || !strings.HasPrefix(out, "read "+srv.JID("dr.osei")) {
		t.Fatalf("exit %d, stdout %q, stderr %q; want %d having reached read (a decline from someone else ignored)", code, out, errOut, ExitTimedOut)
	}
}

// TestSendCallMeThenAck: a "call me" answer is reported on stderr and the
// wait goes on until the acknowledgement.
func TestSendCallMeThenAck(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	startPeer(t, srv, "dr.osei", func(p *peer, m securestore.Message) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := p.session.Respond(ctx, m.ConversationID, m.ID, sync.ResponseCallMe, ""); err != nil {
				p.t.Logf("respond: %v", err)
			}
			time.Sleep(500 * time.Millisecond)
			if _, err := p.session.Respond(ctx, m.ConversationID, m.ID, sync.ResponseAck, ""); err != nil {
				p.t.Logf("respond: %v", err)
			}
		}()
	})
	code, out, errOut := runCLI(t, "Glucose 1.8 mmol/L", sendArgs(t, srv, t.TempDir(),
		"--to", srv.JID("dr.osei"), "--wait", "ack", "--timeout", "60s")...)
	if code != ExitOK || !strings.HasPrefix(out, "acknowledged ") || !strings.Contains(errOut, `answered "call-me"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestSendAckTimesOut: the physician reads the page but never acknowledges
// it; `--wait ack` gives up after the timeout with exit 5 and says it was read.
func TestSendAckTimesOut(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	startPeer(t, srv, "dr.osei", read)
	code, out, errOut := runCLI(t, "Lactate 6.1", sendArgs(t, srv, t.TempDir(),
		"--to", srv.JID("dr.osei"), "--ack", "--wait", "ack", "--timeout", "6s")...)
	if code != ExitTimedOut || !strings.HasPrefix(out, "read ") || !strings.Contains(errOut, "reached read") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 5 having reached read", code, out, errOut)
	}
}

// rotaCSV writes a schedule around now: dr.osei holds Cardiology on call
// (may take orders), charge.nurse Charge nurse ICU, and a later shift.
func rotaCSV(t *testing.T, srv *testserver.Server) string {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	f := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	body := fmt.Sprintf("role,jid,from,until,backup,orders\n"+
		"Cardiology on call,%s,%s,%s,%s,true\n"+
		"Charge nurse ICU,%s,%s,%s,,false\n"+
		"Cardiology on call,%s,%s,%s,,true\n",
		srv.JID("dr.osei"), f(-time.Hour), f(time.Hour), srv.JID("charge.nurse"),
		srv.JID("charge.nurse"), f(-time.Hour), f(time.Hour),
		srv.JID("dr.lee"), f(time.Hour), f(13*time.Hour))
	p := filepath.Join(t.TempDir(), "rota.csv")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func adminArgs(t *testing.T, srv *testserver.Server, state string) []string {
	return botArgs(t, srv, testserver.PubSubAdmin, state)
}

// fetchShifts reads the on-call node as a device does.
func fetchShifts(t *testing.T, p *peer) []xmpp.Shift {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	items, err := p.session.FetchNode(ctx, sync.NodeOnCall)
	if err != nil {
		t.Fatalf("fetch on-call: %v", err)
	}
	for _, it := range items {
		if it.ID == "current" {
			s, err := xmpp.ParseSchedule(it.Payload)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	t.Fatalf("no current on-call item in %d items", len(items))
	return nil
}

// TestPublishOnCallAndSendToRole: IT publishes a rota from CSV, a device
// reads it back shift for shift, and a page to "Cardiology on call" reaches
// whoever holds it now; a role nobody holds is refused (exit 7). Publishing
// the iCalendar example replaces the schedule.
func TestPublishOnCallAndSendToRole(t *testing.T) {
	testserver.EachServer(t, testPublishOnCallAndSendToRole)
}

func testPublishOnCallAndSendToRole(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "lab.bot", "dr.osei", "charge.nurse", "dr.lee")
	doc := startPeer(t, srv, "dr.osei", nil)
	if code, _, errOut := runCLI(t, "x", sendArgs(t, srv, t.TempDir(), "--role", "Cardiology on call")...); code != ExitRefused || !strings.Contains(errOut, "no on-call schedule is published") {
		t.Fatalf("role before any schedule: exit %d, %s", code, errOut)
	}
	rota := rotaCSV(t, srv)
	code, out, _ := runCLI(t, "", append(append([]string{"admin", "publish-oncall"}, adminArgs(t, srv, t.TempDir())...), rota)...)
	if code != ExitOK || !strings.Contains(out, "published 3 shifts") {
		t.Fatalf("publish-oncall: exit %d, %q", code, out)
	}
	shifts := fetchShifts(t, doc)
	if len(shifts) != 3 || shifts[0].Role != "Cardiology on call" && shifts[1].Role != "Cardiology on call" {
		t.Fatalf("device read %+v", shifts)
	}
	state := t.TempDir()
	code, out, errOut := runCLI(t, "Echo needed, bed 2", sendArgs(t, srv, state,
		"--role", "cardiology on call", "--wait", "delivered", "--timeout", "60s")...)
	if code != ExitOK || !strings.Contains(out, srv.JID("dr.osei")) || !strings.Contains(errOut, "held by "+srv.JID("dr.osei")) {
		t.Fatalf("send to role: exit %d, %q, %q", code, out, errOut)
	}
	doc.waitFor("the page", func() bool { return len(doc.messages()) == 1 })
	if m := doc.messages()[0]; m.Extra[sync.ExtraRole] != "cardiology on call" && m.Extra[sync.ExtraRole] != "Cardiology on call" {
		t.Fatalf("the page does not carry its role: %+v", m.Extra)
	}
	if code, _, errOut := runCLI(t, "x", sendArgs(t, srv, state, "--role", "Neurology on call")...); code != ExitRefused || !strings.Contains(errOut, "no role") {
		t.Fatalf("unknown role: exit %d, %s", code, errOut)
	}

	code, out, _ = runCLI(t, "", append(append([]string{"admin", "publish-oncall"}, adminArgs(t, srv, t.TempDir())...), "../docs/examples/oncall.ics")...)
	if code != ExitOK || !strings.Contains(out, "published 4 shifts") {
		t.Fatalf("publish-oncall ics: exit %d, %q", code, out)
	}
	shifts = fetchShifts(t, doc)
	if len(shifts) != 4 || !shifts[0].From.Equal(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("device read %+v", shifts)
	}
}

// TestPublishPolicy: an invalid policy is refused with the reason and
// nothing reaches the node; a valid one is published and read back by a
// device exactly.
func TestPublishPolicy(t *testing.T) { testserver.EachServer(t, testPublishPolicy) }

func testPublishPolicy(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "dr.osei")
	doc := startPeer(t, srv, "dr.osei", nil)
	state := t.TempDir()
	code, _, errOut := runCLI(t, "", append(append([]string{"admin", "publish-policy"}, adminArgs(t, srv, state)...), "testdata/fail_policy_preview.xml")...)
	if code != ExitUsage || !strings.Contains(errOut, "everything") {
		t.Fatalf("invalid policy: exit %d, %s", code, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if items, err := doc.session.FetchNode(ctx, sync.NodePolicy); err == nil && len(items) > 0 {
		t.Fatalf("an invalid policy reached the node: %+v", items)
	}
	code, _, _ = runCLI(t, "", append(append([]string{"admin", "publish-policy"}, adminArgs(t, srv, state)...), "../docs/examples/policy.xml")...)
	if code != ExitOK {
		t.Fatalf("example policy: exit %d", code)
	}
	items, err := doc.session.FetchNode(ctx, sync.NodePolicy)
	if err != nil || len(items) != 1 {
		t.Fatalf("fetch policy: %v, %d items", err, len(items))
	}
	p, err := xmpp.ParseOrgPolicy(items[0].Payload)
	if err != nil || p.RetentionDays != 30 || p.LockMaxSeconds != 300 || len(p.Admins) != 1 || p.Admins[0] != "it.admin@rounds.test" ||
		len(p.Escalation.Steps) != 2 || p.NotificationPreview != "sender" {
		t.Fatalf("device read %+v (%v)", p, err)
	}
}

// TestPublishNeedsRights: an account that is not the pubsub service's admin
// cannot publish the policy: exit 1, and the node stays as it was.
func TestPublishNeedsRights(t *testing.T) { testserver.EachServer(t, testPublishNeedsRights) }

func testPublishNeedsRights(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "dr.osei", "lab.bot")
	code, _, errOut := runCLI(t, "", append(append([]string{"admin", "publish-policy"}, botArgs(t, srv, "lab.bot", t.TempDir())...), "../docs/examples/policy.xml")...)
	if code != ExitFailure || !strings.Contains(errOut, "publishing to urn:rounds:policy:0") {
		t.Fatalf("exit %d, %s", code, errOut)
	}
}

// TestOrders: with the policy's specified contact list, an order to dr.osei
// goes; an order to nurse.kim is refused (exit 7) and never reaches her.
func TestOrders(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "lab.bot", "dr.osei", "nurse.kim")
	policy := filepath.Join(t.TempDir(), "policy.xml")
	doc := fmt.Sprintf("<policy xmlns='urn:rounds:policy:0' version='1'><order-recipient jid='%s'/></policy>", srv.JID("dr.osei"))
	if err := os.WriteFile(policy, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runCLI(t, "", append(append([]string{"admin", "publish-policy"}, adminArgs(t, srv, t.TempDir())...), policy)...); code != ExitOK {
		t.Fatalf("publish policy: exit %d", code)
	}
	nurse := startPeer(t, srv, "nurse.kim", nil)
	osei := startPeer(t, srv, "dr.osei", nil)
	state := t.TempDir()
	code, _, errOut := runCLI(t, "Start heparin infusion", sendArgs(t, srv, state, "--to", srv.JID("nurse.kim"), "--order")...)
	if code != ExitRefused || !strings.Contains(errOut, "not on the specified contact list") {
		t.Fatalf("order to nurse: exit %d, %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "Start heparin infusion", sendArgs(t, srv, state, "--to", srv.JID("dr.osei"), "--order", "--wait", "delivered", "--timeout", "60s")...); code != ExitOK {
		t.Fatalf("order to dr.osei: exit %d", code)
	}
	osei.waitFor("the order", func() bool { return len(osei.messages()) == 1 })
	if osei.messages()[0].Extra[sync.ExtraOrder] != "1" {
		t.Fatalf("order not marked: %+v", osei.messages()[0].Extra)
	}
	// A routine message after the refusal arrives alone: the order never went.
	if code, _, _ := runCLI(t, "Family asking for update", sendArgs(t, srv, state, "--to", srv.JID("nurse.kim"), "--wait", "delivered", "--timeout", "60s")...); code != ExitOK {
		t.Fatalf("routine message: exit %d", code)
	}
	nurse.waitFor("the routine message", func() bool { return len(nurse.messages()) >= 1 })
	if ms := nurse.messages(); len(ms) != 1 || ms[0].Body != "Family asking for update" {
		t.Fatalf("nurse received %+v", ms)
	}
}

// TestWipe: the admin's directive reaches the user's device as a
// WipeRequested event from the admin (the app decides what to do with it).
func TestWipe(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "nurse.kim")
	phone := startPeer(t, srv, "nurse.kim", nil)
	code, out, _ := runCLI(t, "", append(append([]string{"admin", "wipe"}, adminArgs(t, srv, t.TempDir())...), srv.JID("nurse.kim"))...)
	// The command reports the furthest state reached: the phone's receipt
	// can arrive before the server's ack is read ("delivered" then).
	if code != ExitOK || !(strings.HasPrefix(out, "sent "+srv.JID("nurse.kim")) || strings.HasPrefix(out, "delivered "+srv.JID("nurse.kim"))) {
		t.Fatalf("wipe: exit %d, %q", code, out)
	}
	phone.waitFor("the wipe directive", func() bool {
		for _, e := range phone.eventsSeen() {
			if w, ok := e.(sync.WipeRequested); ok && xmpp.SameBare(w.From, srv.JID(testserver.PubSubAdmin)) {
				return true
			}
		}
		return false
	})
}
