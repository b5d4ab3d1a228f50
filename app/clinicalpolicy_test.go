package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Tests of org policy, on-call roles, orders, remote wipe, audit, export and
// retention against a real Prosody, with an admin publishing on its pubsub
// service and an injected clock.

// publish puts xml as item "current" of node, published by the admin device.
func publish(t *testing.T, admin *device, node, xml string) {
	t.Helper()
	el, err := xmpp.DecodeElement([]byte(xml), xmpp.Limits{})
	if err != nil {
		t.Fatalf("test document: %v", err)
	}
	_, s, err := admin.c.sess()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.PublishNode(ctx, node, "current", el); err != nil {
		t.Fatalf("publish %s: %v", node, err)
	}
}

func policyXML(version int, inner string) string {
	return fmt.Sprintf(`<policy xmlns='urn:rounds:policy:0' version='%d'>%s</policy>`, version, inner)
}

func (d *device) waitPolicy(version int) {
	d.t.Helper()
	waitFor(d.t, fmt.Sprintf("%s policy v%d", d.jid, version), 30*time.Second, func() bool { return d.c.OrgPolicyVersion() == version })
}

func (d *device) auditHas(kind, detail string) bool {
	rows, err := d.c.AuditEntries()
	if err != nil {
		return false
	}
	for _, r := range rows {
		if r.Kind == kind && strings.Contains(r.Detail, detail) {
			return true
		}
	}
	return false
}

// passActive moves clk on by dur while d's user keeps using the app (the
// idle lock runs on the same clock).
func passActive(d *device, clk *fakeClock, dur time.Duration) {
	for end := clk.Now().Add(dur); clk.Now().Before(end); {
		d.c.Touch()
		clk.Advance(min(4*time.Minute, end.Sub(clk.Now())))
	}
	d.c.Touch()
}

// realNowClock is a fake clock starting at the real time, so message
// timestamps (the server's) and the app's schedule time agree.
func realNowClock() *fakeClock { return &fakeClock{now: time.Now().UTC().Truncate(time.Second)} }

// TestOrgPolicyStrictestWinsLive: the org policy published on the server's
// pubsub service reaches a signed-in device at once; for each setting the
// stricter of policy and device/user setting applies; a later, stricter
// version re-arms the lock timer; PIN minimum and keyring ban are enforced;
// every change is audited; the policy survives lock and unlock; a "policy"
// pushed by an ordinary account is ignored.
func TestOrgPolicyStrictestWinsLive(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice", "mallory")
	clk := newFakeClock()
	cfg := testConfig(t)
	cfg.Clock = clk
	cfg.Policy = Policy{LockAfter: 10 * time.Minute, Preview: PreviewContent, AllowKeyring: true}
	// The node exists before alice signs in (IT publishes first), so her
	// device reads it at sign-in and follows it from then on.
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	publish(t, it, PolicyNode, policyXML(1, `<lock max-seconds='300'/><pin min-length='6'/><keyring allowed='false'/>`+
		`<notifications preview='sender'/><admin jid='`+it.jid+`'/>`))
	// Sign-in reads the policy before the PIN is chosen, so alice's first
	// PIN already meets version 1's 6 digits; version 2 raises it to 8.
	c, err := SignIn(context.Background(), cfg, srv.JID("alice"), testserver.Password, srv.WSURL(), []byte("246813"))
	if err != nil {
		t.Fatalf("sign in alice: %v", err)
	}
	alice := &device{t: t, cfg: cfg, c: c, notifier: cfg.Notifier.(*fakeNotifier), sound: cfg.Sound.(*fakeSound), jid: srv.JID("alice")}
	alice.collect()
	t.Cleanup(c.SignOut)
	alice.waitOnline()
	alice.waitPolicy(1)
	if err := alice.c.SetLockAfter(8 * time.Minute); !errors.Is(err, ErrBeyondPolicy) {
		t.Fatalf("8 min beyond a 5 min policy: %v", err)
	}
	if got := alice.c.LockAfter(); got != 5*time.Minute {
		t.Fatalf("lock after %v: the policy's 5 min is stricter than the device's 10", got)
	}
	if got := alice.c.NotificationPreview(); got != PreviewSender {
		t.Fatalf("preview %v: the policy allows sender only", got)
	}
	waitFor(t, "keyring slot removed", 10*time.Second, func() bool {
		st, err := alice.c.unlocked()
		if err != nil {
			return false
		}
		on, _ := st.KeyringEnabled()
		return !on
	})
	// The audit entries are written after the policy takes effect (outside
	// the lock): wait for them rather than look once.
	waitFor(t, "policy change and keyring removal audited", 10*time.Second, func() bool {
		return alice.auditHas(securestore.AuditKeyringDisabled, "") && alice.auditHas(AuditPolicyChanged, "policy changed: version 1")
	})
	waitFor(t, "PolicyChanged", 5*time.Second, func() bool { return alice.changeCount(Change{Kind: PolicyChanged}) > 0 })
	if err := alice.c.SetNotificationPreview(PreviewContent); !errors.Is(err, ErrBeyondPolicy) {
		t.Fatalf("content preview beyond policy: %v", err)
	}
	if err := alice.c.SetLockAfter(7 * time.Minute); !errors.Is(err, ErrBeyondPolicy) {
		t.Fatalf("7 min beyond a 5 min policy: %v", err)
	}
	// The user may be stricter than the policy.
	if err := alice.c.SetLockAfter(3 * time.Minute); err != nil {
		t.Fatal(err)
	}

	// Version 2 is stricter still and applies live: the lock comes after 1
	// minute of idleness, without waiting for the old timer.
	alice.c.Touch()
	publish(t, it, PolicyNode, policyXML(2, `<lock max-seconds='60'/><pin min-length='8'/><keyring allowed='false'/>`+
		`<notifications preview='none'/><admin jid='`+it.jid+`'/>`))
	alice.waitPolicy(2)
	if got, p := alice.c.LockAfter(), alice.c.NotificationPreview(); got != time.Minute || p != PreviewNone {
		t.Fatalf("v2: lock after %v, preview %v", got, p)
	}
	// PIN: the 6-digit PIN chosen under version 1 is now too short.
	if !alice.c.PINChangeRequired() {
		t.Fatal("a 6-character PIN under an 8-character policy is not flagged")
	}
	var short *PINTooShortError
	if err := alice.c.ChangePIN([]byte("246813"), []byte("1357902")); !errors.As(err, &short) || short.Min != 8 {
		t.Fatalf("7-character PIN: %v", err)
	}
	if err := alice.c.ChangePIN([]byte("246813"), []byte("13579024")); err != nil {
		t.Fatal(err)
	}
	if alice.c.PINChangeRequired() {
		t.Fatal("still flagged after a long enough PIN")
	}
	// The version is in force before its audit entry is written: wait for it.
	waitFor(t, "v2 audited", 10*time.Second, func() bool {
		return alice.auditHas(AuditPolicyChanged, "policy changed: version 2 (was 1)")
	})
	clk.Advance(61 * time.Second)
	waitFor(t, "locked after the policy's minute", 10*time.Second, alice.c.Locked)
	if err := alice.c.Unlock(context.Background(), []byte("13579024")); err != nil {
		t.Fatal(err)
	}
	// Applied from the store at once, before any fetch.
	if v, l := alice.c.OrgPolicyVersion(), alice.c.LockAfter(); v != 2 || l != time.Minute {
		t.Fatalf("after unlock: version %d, lock after %v", v, l)
	}
	alice.waitOnline()

	// A "policy" event from an ordinary account is not the pubsub service:
	// ignored. A chat message sent after it proves it was processed.
	m := dialRaw(t, srv, "mallory")
	const nsEvent = "http://jabber.org/protocol/pubsub#event"
	pol, _ := xmpp.DecodeElement([]byte(policyXML(99, `<lock max-seconds='3600'/><admin jid='`+srv.JID("mallory")+`'/>`)), xmpp.Limits{})
	ev := xmpp.NewElement(xmpp.NSClient, "message", "to", alice.jid, "id", "fake-policy").Append(
		xmpp.NewElement(nsEvent, "event").Append(
			xmpp.NewElement(nsEvent, "items", "node", PolicyNode).Append(
				xmpp.NewElement(nsEvent, "item", "id", "current").Append(pol))))
	if err := m.Send(ev); err != nil {
		t.Fatal(err)
	}
	if err := m.Send(xmpp.NewChat(alice.jid, "after the fake policy")); err != nil {
		t.Fatal(err)
	}
	alice.waitUnread(srv.JID("mallory"), 1)
	if v, l := alice.c.OrgPolicyVersion(), alice.c.LockAfter(); v != 2 || l != time.Minute {
		t.Fatalf("a policy from an ordinary account applied: version %d, lock after %v", v, l)
	}
}

// dialRaw signs user in on a plain wire client (a non-Rounds or hostile
// client).
func dialRaw(t *testing.T, srv *testserver.Server, user string) *xmpp.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID(user), Resource: "raw",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Send(xmpp.NewElement(xmpp.NSClient, "presence")); err != nil {
		t.Fatal(err)
	}
	return c
}

// schedule renders shifts as the on-call node's document.
func scheduleXML(shifts ...Shift) string {
	var b strings.Builder
	b.WriteString(`<schedule xmlns='urn:rounds:oncall:0'>`)
	for _, s := range shifts {
		fmt.Fprintf(&b, `<shift role='%s' jid='%s' from='%s' until='%s'`, s.Role, s.JID,
			s.From.Format(time.RFC3339), s.Until.Format(time.RFC3339))
		if s.Backup != "" {
			fmt.Fprintf(&b, ` backup='%s'`, s.Backup)
		}
		if s.Orders {
			b.WriteString(` orders='true'`)
		}
		b.WriteString(`/>`)
	}
	b.WriteString(`</schedule>`)
	return b.String()
}

// TestRolesResolveBySchedule: a message to a role goes to whoever holds it
// at the sender's clock: before the first shift nobody (refused, nothing
// stored), within a shift its holder, after the handover the next holder, in
// a gap nobody, and the holder paging their own role reaches the backup. The recipient's
// copy records the role; the directory shows who holds what.
func TestRolesResolveBySchedule(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice", "bob", "carol")
	clk := realNowClock()
	t0 := clk.Now()
	cfg := testConfig(t)
	cfg.Clock = clk
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	bobJID, carolJID := srv.JID("bob"), srv.JID("carol")
	publish(t, it, OnCallNode, scheduleXML(
		Shift{Role: "Cardiology on call", JID: bobJID, From: h(1), Until: h(3), Backup: carolJID},
		Shift{Role: "Cardiology on call", JID: carolJID, From: h(3), Until: h(5)},
		Shift{Role: "Rapid response", JID: srv.JID("alice"), Backup: carolJID, From: h(6), Until: h(7)},
	))
	alice := signIn(t, srv, "alice", cfg)
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	waitFor(t, "schedule at alice", 30*time.Second, func() bool { rs, _ := alice.c.Roles(); return len(rs) == 2 })
	waitFor(t, "RolesChanged", 5*time.Second, func() bool { return alice.changeCount(Change{Kind: RolesChanged}) > 0 })

	const role = "Cardiology on call"
	// Before the first shift.
	if _, err := alice.c.SendToRole(role, "before", ClinicalOptions{}); !errors.Is(err, ErrRoleUnstaffed) {
		t.Fatalf("before the shift: %v", err)
	}
	if rows, _ := alice.c.Inbox(""); len(rows) != 0 {
		t.Fatalf("a refused role message was stored: %+v", rows)
	}
	rs, _ := alice.c.Roles()
	if rs[0].Role != role || rs[0].Holder != "" || !rs[0].Next.Equal(h(1)) {
		t.Fatalf("unstaffed role row: %+v", rs[0])
	}

	// Within bob's shift.
	passActive(alice, clk, 90*time.Minute)
	if who, err := alice.c.ResolveRole("cardiology ON CALL"); err != nil || who != bob.jid {
		t.Fatalf("ResolveRole within bob's shift: %q %v", who, err)
	}
	sent, err := alice.c.SendToRole(role, "Troponin rising bed 4", ClinicalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Role == nil || sent.Role.To != bob.jid || sent.Role.Backup || sent.Conversation != bob.jid || !sent.Role.Until.Equal(h(3)) {
		t.Fatalf("sent to role: %+v %+v", sent, sent.Role)
	}
	bob.waitUnread(alice.jid, 1)
	st, _ := bob.c.unlocked()
	got, err := st.Latest(alice.jid, 1)
	if err != nil || len(got) != 1 || got[0].Extra[extraRole] != role {
		t.Fatalf("bob's copy does not record the role: %+v %v", got, err)
	}
	if err := alice.c.AddContact(bob.jid, "Dr Bob"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob in alice's directory with his role", 20*time.Second, func() bool {
		dir, _ := alice.c.Directory("")
		for _, r := range dir {
			if r.JID == bob.jid {
				return slices.Equal(r.Roles, []string{role})
			}
		}
		return false
	})
	if rs, _ := alice.c.Roles(); rs[0].Holder != bob.jid || rs[0].HolderName != "Dr Bob" || rs[0].BackupJID != carol.jid {
		t.Fatalf("role row within the shift: %+v", rs[0])
	}

	// After the handover.
	passActive(alice, clk, 2*time.Hour) // t0+3.5h
	sent, err = alice.c.SendToRole(role, "Still rising", ClinicalOptions{})
	if err != nil || sent.Role.To != carol.jid {
		t.Fatalf("after handover: %+v %v", sent, err)
	}
	carol.waitUnread(alice.jid, 1)

	// A gap, then a shift that names only a backup.
	passActive(alice, clk, 2*time.Hour) // t0+5.5h
	if _, err := alice.c.SendToRole(role, "gap", ClinicalOptions{}); !errors.Is(err, ErrRoleUnstaffed) {
		t.Fatalf("in the gap: %v", err)
	}
	// Alice holds "Rapid response" herself: paging it asks her backup.
	passActive(alice, clk, time.Hour) // t0+6.5h
	if who, err := alice.c.ResolveRole("Rapid response"); err != nil || who != carol.jid {
		t.Fatalf("holder paging own role: %q %v", who, err)
	}
	if rs, _ := alice.c.Roles(); rs[1].Role != "Rapid response" || rs[1].Holder != alice.jid {
		t.Fatalf("roles at t0+6.5h: %+v", rs)
	}
	sent, err = alice.c.SendToRole("Rapid response", "cover please", ClinicalOptions{})
	if err != nil || sent.Role == nil || sent.Role.To != carol.jid || !sent.Role.Backup || sent.Conversation != carol.jid {
		t.Fatalf("holder sending to own role reached %+v (%v), want the backup %s", sent, err, carol.jid)
	}
	carol.waitUnread(alice.jid, 2)
	if _, err := alice.c.SendToRole("Dermatology", "x", ClinicalOptions{}); !errors.Is(err, ErrRoleUnstaffed) {
		t.Fatalf("unknown role: %v", err)
	}
}

// TestOrdersOnlyToSpecifiedList: an order to someone neither on the policy's
// order list nor on an orders shift is refused before anything is stored
// (and audited); to a listed person, and to an orders-shift holder during the
// shift, it goes through marked as an order; a room never takes orders.
func TestOrdersOnlyToSpecifiedList(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice", "bob", "carol", "dave")
	clk := realNowClock()
	cfg := testConfig(t)
	cfg.Clock = clk
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	dave := srv.JID("dave")
	publish(t, it, PolicyNode, policyXML(1, `<order-recipient jid='`+srv.JID("bob")+`'/>`))
	publish(t, it, OnCallNode, scheduleXML(
		Shift{Role: "Pharmacy on call", JID: srv.JID("carol"), From: clk.Now().Add(-time.Hour), Until: clk.Now().Add(time.Hour), Orders: true}))
	alice := signIn(t, srv, "alice", cfg)
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	alice.waitPolicy(1)
	waitFor(t, "schedule", 30*time.Second, func() bool { rs, _ := alice.c.Roles(); return len(rs) == 1 })

	_, err := alice.c.SendClinical(dave, "Give 40 mg furosemide IV", ClinicalOptions{Order: true})
	if !errors.Is(err, ErrNotOrderRecipient) {
		t.Fatalf("order to dave: %v", err)
	}
	if rows, _ := alice.c.Inbox(""); len(rows) != 0 {
		t.Fatalf("a refused order left a trace in the inbox: %+v", rows)
	}
	if !alice.auditHas(AuditOrderRefused, dave) {
		t.Fatal("refused order not audited")
	}
	// An ordinary message to dave is fine.
	if _, err := alice.c.SendClinical(dave, "Are you on today?", ClinicalOptions{}); err != nil {
		t.Fatal(err)
	}

	for _, to := range []*device{bob, carol} {
		if _, err := alice.c.SendClinical(to.jid, "Give 40 mg furosemide IV", ClinicalOptions{Order: true}); err != nil {
			t.Fatalf("order to %s: %v", to.jid, err)
		}
		to.waitUnread(alice.jid, 1)
		st, _ := to.c.unlocked()
		ms, _ := st.Latest(alice.jid, 1)
		if len(ms) != 1 || ms[0].Extra[extraOrder] != "1" {
			t.Fatalf("%s's copy is not marked as an order: %+v", to.jid, ms)
		}
	}
	// Carol's orders shift ends.
	passActive(alice, clk, 61*time.Minute)
	if _, err := alice.c.SendClinical(carol.jid, "Another order", ClinicalOptions{Order: true}); !errors.Is(err, ErrNotOrderRecipient) {
		t.Fatalf("order after carol's shift: %v", err)
	}
	// A room never takes orders.
	room := "ward7@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.SendClinical(room, "Order for the room", ClinicalOptions{Order: true}); !errors.Is(err, ErrNotOrderRecipient) {
		t.Fatalf("order to a room: %v", err)
	}
}

// TestRemoteWipe: a wipe directive from a stranger is ignored and audited;
// from the policy's admin it wipes the device (store file gone, signed out).
// A fresh device of the same account that later catches up the same
// directive from the archive ignores it (issued before it signed in).
func TestRemoteWipe(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice", "mallory")
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	publish(t, it, PolicyNode, policyXML(1, `<admin jid='`+it.jid+`'/>`))
	alice := signIn(t, srv, "alice", Config{})
	mallory := signIn(t, srv, "mallory", Config{})
	alice.waitPolicy(1)
	files := storeFilesIn(t, alice.cfg.DataDir)
	if len(files) != 1 {
		t.Fatalf("store files %v", files)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, ms, _ := mallory.c.sess()
	if err := ms.SendWipe(ctx, alice.jid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "ignored wipe audited", 20*time.Second, func() bool {
		return alice.auditHas(AuditWipeIgnored, "wipe directive ignored from "+mallory.jid)
	})
	if alice.c.Locked() || len(storeFilesIn(t, alice.cfg.DataDir)) != 1 {
		t.Fatal("a stranger's wipe did something")
	}
	// Its fallback text ("your administrator has wiped this device") would be
	// false here: the thread and the inbox say it was ignored.
	rows, err := alice.c.Messages(mallory.jid, 10)
	if err != nil || len(rows) != 1 || !rows[0].Notice || !strings.Contains(rows[0].Body, "ignored") {
		t.Fatalf("a stranger's wipe directive shows as %+v (%v)", rows, err)
	}
	if inbox, _ := alice.c.Inbox(""); len(inbox) != 1 || inbox[0].Preview != "Remote-wipe request ignored" {
		t.Fatalf("inbox row of a stranger's wipe directive: %+v", inbox)
	}

	_, is, _ := it.c.sess()
	if err := is.SendWipe(ctx, alice.jid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice wiped", 20*time.Second, func() bool {
		return len(storeFilesIn(t, alice.cfg.DataDir)) == 0 && alice.changeCount(Change{Kind: SignedOut}) == 1
	})
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Fatalf("store file still there: %v", err)
	}
	if err := alice.c.Unlock(context.Background(), testPIN); !errors.Is(err, ErrSignedOut) {
		t.Fatalf("unlock after wipe: %v", err)
	}
	if HasAccount(alice.cfg) {
		t.Fatal("the device still has an account")
	}

	// The same account set up again on a fresh device: the archived
	// directive is older than this sign-in, so it is ignored.
	// Issued times travel with second precision and a directive from the
	// second of set-up counts as meant for the device; a person re-issuing a
	// phone takes longer than that.
	time.Sleep(1100 * time.Millisecond)
	again := signIn(t, srv, "alice", Config{})
	waitFor(t, "replayed wipe ignored", 30*time.Second, func() bool {
		return again.auditHas(AuditWipeIgnored, "before this device signed in")
	})
	if again.c.Locked() || len(storeFilesIn(t, again.cfg.DataDir)) != 1 {
		t.Fatal("a replayed wipe wiped the new device")
	}
}

// TestAuditAndConversationExport: a conversation export lists every message
// with each receipt state and its time (JSON and CSV); the audit export
// verifies and records both exports; an edited export does not verify.
func TestAuditAndConversationExport(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	if _, err := alice.c.Send(bob.jid, "K+ 6.1 bed 12"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Send(bob.jid, "=HYPERLINK(\"x\")"); err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(alice.jid, 2)
	msgs, _ := bob.c.Messages(alice.jid, 10)
	if err := bob.c.MarkShown(alice.jid, msgs[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Send(alice.jid, "Seen, coming"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first read, second delivered", 30*time.Second, func() bool {
		ms, _ := alice.c.Messages(bob.jid, 10)
		return len(ms) == 3 && ms[0].Receipt.State == securestore.ReceiptRead && ms[1].Receipt.State == securestore.ReceiptDelivered
	})

	var js bytes.Buffer
	if err := alice.c.ExportConversation(&js, bob.jid, "json"); err != nil {
		t.Fatal(err)
	}
	var x conversationExport
	if err := json.Unmarshal(js.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	if x.Conversation != bob.jid || x.Account != alice.jid || len(x.Messages) != 3 {
		t.Fatalf("export: %+v", x)
	}
	m0, m1, m2 := x.Messages[0], x.Messages[1], x.Messages[2]
	if m0.Body != "K+ 6.1 bed 12" || m0.Direction != "out" || m0.Receipt.State != "read" || m0.Urgency != "Routine" {
		t.Fatalf("first message: %+v", m0)
	}
	for name, tm := range map[string]time.Time{"queued": m0.Receipt.Queued, "sent": m0.Receipt.Sent,
		"delivered": m0.Receipt.Delivered, "read": m0.Receipt.Read} {
		if tm.IsZero() || tm.Before(m0.Time.Add(-time.Minute)) {
			t.Fatalf("first message %s time %v", name, tm)
		}
	}
	if !m0.Receipt.Read.Before(time.Now()) || m0.Receipt.Delivered.After(m0.Receipt.Read) || m0.Receipt.Sent.After(m0.Receipt.Delivered) {
		t.Fatalf("receipt times out of order: %+v", m0.Receipt)
	}
	if m1.Receipt.State != "delivered" || !m1.Receipt.Read.IsZero() {
		t.Fatalf("second message: %+v", m1.Receipt)
	}
	if m2.Direction != "in" || m2.Body != "Seen, coming" || m2.Sender == "" || m2.From == "" {
		t.Fatalf("incoming message: %+v", m2)
	}

	var cs bytes.Buffer
	if err := alice.c.ExportConversation(&cs, bob.jid, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], conversationCSVHeader) {
		t.Fatalf("csv rows %d, header %v", len(rows), rows[0])
	}
	col := func(name string) int { return slices.Index(conversationCSVHeader, name) }
	if rows[1][col("body")] != "K+ 6.1 bed 12" || rows[1][col("state")] != "read" || rows[1][col("read")] == "" {
		t.Fatalf("csv first row %v", rows[1])
	}
	if rows[2][col("body")] != "'=HYPERLINK(\"x\")" {
		t.Fatalf("a formula-like body is not defused: %q", rows[2][col("body")])
	}
	if err := alice.c.ExportConversation(&cs, "nobody@"+srv.Domain, "csv"); !errors.Is(err, securestore.ErrNotFound) {
		t.Fatalf("export of an unknown conversation: %v", err)
	}

	// An urgent message acknowledged by bob: the export has the time of the
	// acknowledgement and says it was required.
	sent, err := alice.c.SendClinical(bob.jid, "K+ 6.8 now, please review", ClinicalOptions{Urgency: securestore.UrgencyHigh})
	if err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(alice.jid, 2)
	var urgentAtBob securestore.MessageID
	waitFor(t, "urgent message at bob", 20*time.Second, func() bool {
		ms, _ := bob.c.Messages(alice.jid, 10)
		for _, m := range ms {
			if m.Body == "K+ 6.8 now, please review" {
				urgentAtBob = m.ID
			}
		}
		return urgentAtBob != 0
	})
	if err := bob.c.Respond(alice.jid, urgentAtBob, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acknowledged at alice", 30*time.Second, func() bool {
		ms, _ := alice.c.Messages(bob.jid, 20)
		for _, m := range ms {
			if m.ID == sent.ID {
				return m.Receipt.State == securestore.ReceiptAcknowledged
			}
		}
		return false
	})
	js.Reset()
	if err := alice.c.ExportConversation(&js, bob.jid, "json"); err != nil {
		t.Fatal(err)
	}
	x = conversationExport{}
	if err := json.Unmarshal(js.Bytes(), &x); err != nil {
		t.Fatal(err)
	}
	var urgent *ExportedMessage
	for i := range x.Messages {
		if x.Messages[i].ID == sent.ID {
			urgent = &x.Messages[i]
		}
	}
	if urgent == nil || urgent.Urgency != "Urgent" || !urgent.AckRequired || urgent.Receipt.State != "acknowledged" ||
		urgent.Receipt.Acknowledged.IsZero() || urgent.Receipt.Acknowledged.Before(urgent.Receipt.Sent) {
		t.Fatalf("urgent message in the export: %+v", urgent)
	}

	// A room: one row per member with that member's receipt.
	room := "icu-export@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.JoinRoom(room, "Dr Bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Send(room, "Huddle at 3"); err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(room, 1)
	rms, _ := bob.c.Messages(room, 10)
	if err := bob.c.MarkShown(room, rms[len(rms)-1].ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "member read receipt", 30*time.Second, func() bool {
		ms, _ := alice.c.Messages(room, 10)
		for _, m := range ms {
			for _, rc := range m.Members {
				if rc.State == securestore.ReceiptRead {
					return true
				}
			}
		}
		return false
	})
	cs.Reset()
	if err := alice.c.ExportConversation(&cs, room, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err = csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	memberRow := -1
	for i, r := range rows[1:] {
		if r[col("member")] != "" {
			memberRow = i + 1
		}
	}
	if len(rows) < 3 || memberRow < 0 || rows[memberRow][col("state")] != "read" || rows[memberRow][col("read")] == "" ||
		rows[memberRow][col("body")] != "" || rows[1][col("body")] != "Huddle at 3" {
		t.Fatalf("room export rows %q", rows)
	}

	var audit bytes.Buffer
	if err := alice.c.ExportAudit(&audit, "json"); err != nil {
		t.Fatal(err)
	}
	if err := VerifyAuditExport(bytes.NewReader(audit.Bytes())); err != nil {
		t.Fatal(err)
	}
	text := audit.String()
	for _, want := range []string{`"sign-in"`, "conversation " + bob.jid + " exported as json: 3 messages", "exported as csv: 3 messages",
		"conversation " + room + " exported as csv", "audit log exported as json"} {
		if !strings.Contains(text, want) {
			t.Fatalf("audit export lacks %q", want)
		}
	}
	if strings.Contains(text, "K+ 6.1") {
		t.Fatal("message text in the audit log")
	}
	bad := strings.Replace(text, "exported as csv: 3 messages", "exported as csv: 2 messages", 1)
	if err := VerifyAuditExport(strings.NewReader(bad)); !errors.Is(err, ErrAuditTampered) {
		t.Fatalf("edited export: %v", err)
	}
}

// TestRetentionPurgeOnPolicySchedule: with a 1-day retention from the org
// policy, messages stay for their day and are crypto-shredded by the daily
// purge once their period is past, on the injected clock; the purge is
// audited.
func TestRetentionPurgeOnPolicySchedule(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice", "bob")
	clk := realNowClock()
	cfg := testConfig(t)
	cfg.Clock = clk
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	publish(t, it, PolicyNode, policyXML(1, `<lock max-seconds='600'/>`))
	alice := signIn(t, srv, "alice", cfg)
	bob := signIn(t, srv, "bob", Config{})
	alice.waitPolicy(1)
	for i := range 3 {
		if _, err := bob.c.Send(alice.jid, fmt.Sprintf("obs %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	alice.waitUnread(bob.jid, 3)
	publish(t, it, PolicyNode, policyXML(2, `<retention days='1'/>`))
	alice.waitPolicy(2)
	if p := alice.c.Policy(); p.Retention != 24*time.Hour {
		t.Fatalf("retention %v", p.Retention)
	}
	passActive(alice, clk, 24*time.Hour)
	if ms, _ := alice.c.Messages(bob.jid, 10); len(ms) != 3 {
		t.Fatalf("messages purged before their retention ran out: %d left", len(ms))
	}
	passActive(alice, clk, 25*time.Hour)
	waitFor(t, "purge", 10*time.Second, func() bool { ms, err := alice.c.Messages(bob.jid, 10); return err == nil && len(ms) == 0 })
	if !alice.auditHas(securestore.AuditPurge, "messages=3") {
		t.Fatal("purge not audited")
	}
	if r, ok := alice.row(bob.jid); ok && r.Unread != 0 {
		t.Fatalf("unread after purge: %+v", r)
	}
}
