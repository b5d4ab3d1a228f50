package app

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

func ptr[T any](v T) *T { return &v }

// TestPolicyMergeStrictestWins: between the configured policy and the org
// node, each safety setting takes the stricter value, whichever side has it.
func TestPolicyMergeStrictestWins(t *testing.T) {
	base := Policy{LockAfter: 10 * time.Minute, Preview: PreviewContent, AllowKeyring: true,
		MinPINLength: 6, Retention: 10 * 24 * time.Hour, Admins: []string{"it@h.org"},
		OrderRecipients: []string{"old@h.org"}}.withDefaults()

	// The node is stricter everywhere.
	org := &OrgPolicy{Version: 3, LockMax: 2 * time.Minute, PINMinLength: 8, KeyringAllowed: ptr(false),
		Preview: ptr(PreviewNone), RetentionDays: 3, UrgentRepeat: time.Minute, UrgentRepeatCount: 4,
		Escalation: EscalationPolicy{After: 3 * time.Minute, Steps: []EscalationStep{{Role: "Charge nurse"}}},
		Admins:     []string{" Security@H.org/desk "}, OrderRecipients: []string{"Dr.Osei@h.org"},
		Levels: UrgencyLevelNames{STAT: "Code"}}
	p := mergePolicy(base, org)
	if p.LockAfter != 2*time.Minute || p.MinPINLength != 8 || p.AllowKeyring || p.Preview != PreviewNone ||
		p.Retention != 3*24*time.Hour || p.Version != 3 {
		t.Fatalf("stricter node not applied: %+v", p)
	}
	if p.UrgentRepeat != time.Minute || p.UrgentRepeatCount != 4 || p.Escalation.After != 3*time.Minute ||
		len(p.Escalation.Steps) != 1 || p.Escalation.Steps[0].Role != "Charge nurse" {
		t.Fatalf("clinical settings: %+v", p)
	}
	if !slices.Equal(p.Admins, []string{"it@h.org", "security@h.org"}) {
		t.Fatalf("admins %v", p.Admins)
	}
	if !slices.Equal(p.OrderRecipients, []string{"dr.osei@h.org"}) {
		t.Fatalf("order recipients %v", p.OrderRecipients)
	}
	if n := p.Levels; n.Name(2) != "Code" || n.Name(1) != "Urgent" || n.Name(0) != "Routine" {
		t.Fatalf("levels %+v", n)
	}

	// The node is looser everywhere: the configured values stand.
	loose := &OrgPolicy{Version: 4, LockMax: time.Hour, PINMinLength: 4, KeyringAllowed: ptr(true),
		Preview: ptr(PreviewContent), RetentionDays: 365}
	strictBase := Policy{LockAfter: time.Minute, Preview: PreviewNone, MinPINLength: 6, Retention: 24 * time.Hour}.withDefaults()
	p = mergePolicy(strictBase, loose)
	if p.LockAfter != time.Minute || p.MinPINLength != 6 || p.AllowKeyring || p.Preview != PreviewNone || p.Retention != 24*time.Hour {
		t.Fatalf("looser node loosened the device: %+v", p)
	}

	// Nothing said: the configured policy with defaults.
	p = mergePolicy(Policy{}.withDefaults(), &OrgPolicy{Version: 1})
	if p.LockAfter != DefaultLockAfter || p.MinPINLength != DefaultMinPINLength || p.UrgentRepeat != DefaultUrgentRepeat ||
		p.UrgentRepeatCount != DefaultUrgentRepeatCount || p.Retention != 0 || p.Preview != PreviewSender {
		t.Fatalf("defaults: %+v", p)
	}
	// A retention set only by the node applies.
	if p := mergePolicy(Policy{}.withDefaults(), &OrgPolicy{RetentionDays: 30}); p.Retention != 30*24*time.Hour {
		t.Fatalf("node-only retention %v", p.Retention)
	}
	// The merge does not alias the base's slices.
	p = mergePolicy(base, org)
	p.Admins[0] = "x@y"
	if base.Admins[0] != "it@h.org" {
		t.Fatal("merge aliased the configured admin list")
	}
}

func TestCheckPINLength(t *testing.T) {
	for _, tc := range []struct {
		pin  string
		min  int
		want error
	}{
		{"1234", 4, nil}, {"123", 4, ErrPINTooShort}, {"", 0, nil}, {"äöüß", 4, nil}, {"12345", 6, ErrPINTooShort},
	} {
		err := checkPINLength([]byte(tc.pin), tc.min)
		if tc.pin == "" {
			if err == nil {
				t.Fatal("empty PIN accepted")
			}
			continue
		}
		if !errors.Is(err, tc.want) && err != tc.want {
			t.Fatalf("checkPINLength(%q, %d) = %v", tc.pin, tc.min, err)
		}
		var e *PINTooShortError
		if tc.want != nil && (!errors.As(err, &e) || e.Min != tc.min) {
			t.Fatalf("error %v does not say the minimum", err)
		}
	}
}

func TestDecideWipe(t *testing.T) {
	p := mergePolicy(Policy{}.withDefaults(), &OrgPolicy{Admins: []string{"it@h.org"}})
	created := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from   string
		issued time.Time
		want   wipeDecision
	}{
		{"it@h.org/console", created.Add(time.Hour), wipeNow},
		{"IT@H.ORG", created.Add(time.Hour), wipeNow},
		{"mallory@h.org", created.Add(time.Hour), wipeNotAdmin},
		{"it@h.org.evil", created.Add(time.Hour), wipeNotAdmin},
		{"", created.Add(time.Hour), wipeNotAdmin},
		{"it@h.org", created.Add(-time.Minute), wipeStale},
		{"it@h.org", time.Time{}, wipeStale},
	} {
		if got := decideWipe(p, tc.from, tc.issued, created); got != tc.want {
			t.Errorf("decideWipe(%q, %v) = %v, want %v", tc.from, tc.issued, got, tc.want)
		}
	}
	if decideWipe(mergePolicy(Policy{}.withDefaults(), nil), "it@h.org", created.Add(time.Hour), created) != wipeNotAdmin {
		t.Error("wipe honoured with no admin configured")
	}
}

func decodeDoc(t *testing.T, s string) *xmpp.Element {
	t.Helper()
	el, err := xmpp.DecodeElement([]byte(s), xmpp.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// applyNode hands items of an org node to the Client as the engine does:
// parsed by sync, nothing at all for a document that does not parse.
func applyNode(c *Client, st *securestore.Store, node string, items []xmpp.PubSubItem) {
	if ev, err := sync.ParseNodeItems(node, items); err == nil && ev != nil {
		c.handle(st, ev)
	}
}

// TestPolicyDocumentApplied: a policy item is parsed, merged, persisted and
// audited; a malformed one, or an older version, changes nothing; the stored
// policy is what the next unlock starts from; a schedule item fills Roles.
func TestPolicyDocumentApplied(t *testing.T) {
	c := offlineClient(t)
	st := c.store
	item := func(xml string) []xmpp.PubSubItem {
		return []xmpp.PubSubItem{{ID: "old", Payload: decodeDoc(t, `<policy xmlns='urn:rounds:policy:0' version='0'/>`)},
			{ID: "current", Payload: decodeDoc(t, xml)}}
	}
	applyNode(c, st, PolicyNode, item(`<policy xmlns='urn:rounds:policy:0' version='7'><retention days='30'/>`+
		`<lock max-seconds='120'/><pin min-length='6'/><keyring allowed='false'/><notifications preview='none'/>`+
		`<urgent repeat-seconds='60' repeat-count='5'/><escalation after-seconds='180'><step role='Charge nurse'/><step to='dr.osei@h.org'/></escalation>`+
		`<admin jid='it@h.org'/><order-recipient jid='dr.osei@h.org'/><levels stat='Code blue'/></policy>`))
	p := c.effectivePolicy()
	if p.Version != 7 || p.Retention != 30*24*time.Hour || p.LockAfter != 2*time.Minute || p.MinPINLength != 6 || p.AllowKeyring ||
		p.Preview != PreviewNone || p.UrgentRepeat != time.Minute || p.UrgentRepeatCount != 5 || p.Escalation.After != 3*time.Minute ||
		len(p.Escalation.Steps) != 2 || p.Escalation.Steps[1].To != "dr.osei@h.org" || !slices.Equal(p.Admins, []string{"it@h.org"}) ||
		!slices.Equal(p.OrderRecipients, []string{"dr.osei@h.org"}) || p.Levels.Name(2) != "Code blue" {
		t.Fatalf("applied policy: %+v", p)
	}
	audited := func(detail string) int {
		rows, _ := c.AuditEntries()
		n := 0
		for _, r := range rows {
			if r.Kind == AuditPolicyChanged && strings.Contains(r.Detail, detail) {
				n++
			}
		}
		return n
	}
	if audited("policy changed: version 7") != 1 {
		t.Fatal("policy change not audited")
	}
	// The same document again: nothing new.
	applyNode(c, st, PolicyNode, item(`<policy xmlns='urn:rounds:policy:0' version='7'><retention days='30'/>`+
		`<lock max-seconds='120'/><pin min-length='6'/><keyring allowed='false'/><notifications preview='none'/>`+
		`<urgent repeat-seconds='60' repeat-count='5'/><escalation after-seconds='180'><step role='Charge nurse'/><step to='dr.osei@h.org'/></escalation>`+
		`<admin jid='it@h.org'/><order-recipient jid='dr.osei@h.org'/><levels stat='Code blue'/></policy>`))
	if audited("policy changed: version 7") != 1 {
		t.Fatal("an identical document was audited again")
	}
	// Malformed (lock below the 10 s bound): refused, v7 stays.
	applyNode(c, st, PolicyNode, item(`<policy xmlns='urn:rounds:policy:0' version='4'><lock max-seconds='5'/></policy>`))
	if c.OrgPolicyVersion() != 7 {
		t.Fatal("a malformed policy replaced the one in force")
	}
	// Older: refused, audited once however often it comes.
	for range 3 {
		applyNode(c, st, PolicyNode, item(`<policy xmlns='urn:rounds:policy:0' version='2'><lock max-seconds='3600'/></policy>`))
	}
	if c.OrgPolicyVersion() != 7 || audited("policy version 2 ignored") != 1 {
		t.Fatalf("older version: in force %d, audited %d", c.OrgPolicyVersion(), audited("policy version 2 ignored"))
	}
	// The stored policy is what a restart starts from.
	c.mu.Lock()
	c.org = nil
	c.loadOrgPolicyLocked(st)
	c.mu.Unlock()
	if got := c.Policy(); got.Version != 7 || got.LockAfter != 2*time.Minute {
		t.Fatalf("reloaded: %+v", got)
	}

	applyNode(c, st, OnCallNode, []xmpp.PubSubItem{{ID: "current", Payload: decodeDoc(t,
		`<schedule xmlns='urn:rounds:oncall:0'><shift role='Cardiology on call' jid='dr.osei@h.org' from='2000-01-01T00:00:00Z' until='2100-01-01T00:00:00Z' orders='true'/></schedule>`)}})
	rs, err := c.Roles()
	if err != nil || len(rs) != 1 || rs[0].Holder != "dr.osei@h.org" || !rs[0].Orders {
		t.Fatalf("roles: %+v %v", rs, err)
	}
	if err := c.CheckOrderRecipient("dr.osei@h.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckOrderRecipient("ana@h.org"); !errors.Is(err, ErrNotOrderRecipient) {
		t.Fatalf("order to ana: %v", err)
	}
	// A malformed schedule leaves the last good one.
	applyNode(c, st, OnCallNode, []xmpp.PubSubItem{{ID: "current", Payload: decodeDoc(t,
		`<schedule xmlns='urn:rounds:oncall:0'><shift role='X' jid='not a jid' from='x' until='y'/></schedule>`)}})
	if rs, _ := c.Roles(); len(rs) != 1 {
		t.Fatalf("a malformed schedule replaced the good one: %+v", rs)
	}
}

// TestPolicyWithdrawsContentNotifications: when the policy stops allowing
// message text in notifications, those on screen are withdrawn.
func TestPolicyWithdrawsContentNotifications(t *testing.T) {
	c := offlineClient(t)
	c.cfg.Policy.Preview = PreviewContent
	c.mu.Lock()
	c.notified["dr.osei@h.org"] = notice{}
	c.mu.Unlock()
	n := c.cfg.Notifier.(*fakeNotifier)
	if err := c.applyOrgPolicy(c.store, OrgPolicy{Version: 1, LockMax: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if n.clearedFor("dr.osei@h.org") {
		t.Fatal("withdrawn although content is still allowed")
	}
	if err := c.applyOrgPolicy(c.store, OrgPolicy{Version: 2, Preview: ptr(PreviewSender)}); err != nil {
		t.Fatal(err)
	}
	if !n.clearedFor("dr.osei@h.org") {
		t.Fatal("a notification with message text stayed on screen beyond policy")
	}
}

// TestHeldWipeJudgedWhenPolicyArrives: a directive that arrives before any
// policy (a fresh device's catch-up runs before it reads the policy node) is
// neither obeyed nor dismissed until a policy says who the admins are.
func TestHeldWipeJudgedWhenPolicyArrives(t *testing.T) {
	// A stranger's and a replayed directive: judged and audited once the
	// policy arrives, nothing wiped.
	c := offlineClient(t)
	created := storeCreated(c.store)
	c.onWipeRequested(c.store, "mallory@h.org", "w1", created.Add(time.Hour))
	c.onWipeRequested(c.store, "it@h.org", "w0", created.Add(-time.Hour))
	if rows, _ := c.AuditEntries(); rows[len(rows)-1].Kind == AuditWipeIgnored {
		t.Fatal("a directive was judged before any policy")
	}
	if err := c.applyOrgPolicy(c.store, OrgPolicy{Version: 1, Admins: []string{"it@h.org"}}); err != nil {
		t.Fatal(err)
	}
	rows, _ := c.AuditEntries()
	var ignored []string
	for _, r := range rows {
		if r.Kind == AuditWipeIgnored && strings.Contains(r.Detail, "@h.org") {
			ignored = append(ignored, r.Detail)
		}
	}
	if len(ignored) != 2 || !strings.Contains(ignored[0], "mallory@h.org: not a policy admin") ||
		!strings.Contains(ignored[1], "before this device signed in") || c.Locked() {
		t.Fatalf("held directives judged as %q (locked %v)", ignored, c.Locked())
	}

	// An admin's directive issued after set-up: wiped once the policy says
	// who the admins are.
	c = offlineClient(t)
	c.onWipeRequested(c.store, "it@h.org", "w2", storeCreated(c.store).Add(time.Hour))
	if c.Locked() {
		t.Fatal("wiped before any policy named an admin")
	}
	if err := c.applyOrgPolicy(c.store, OrgPolicy{Version: 1, Admins: []string{"it@h.org"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "wiped and signed out", 10*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.ended
	})
	if err := c.Unlock(context.Background(), testPIN); !errors.Is(err, ErrSignedOut) {
		t.Fatalf("unlock after wipe: %v", err)
	}
	if _, err := os.Stat(c.path); !os.IsNotExist(err) {
		t.Fatalf("store file still there: %v", err)
	}
}

// TestCheckNewPIN: the rule for a chosen PIN, in the words the screens
// show: digits only, the hospital's minimum but never below MinPINLength,
// typed the same twice.
func TestCheckNewPIN(t *testing.T) {
	for _, tc := range []struct {
		pin, confirm string
		min          int
		want         string // "" when accepted
	}{
		{"1234", "1234", 0, ""},
		{"123", "123", 2, "A PIN has at least 4 digits"},
		{"12a4", "12a4", 4, ErrPINDigits.Error()},
		{"äöüß", "äöüß", 4, ErrPINDigits.Error()},
		{"12345", "12345", 6, "Your hospital requires a PIN of at least 6 digits"},
		{"123456", "123465", 6, ErrPINMismatch.Error()},
		{"123456", "123456", 6, ""},
	} {
		err := CheckNewPIN(tc.pin, tc.confirm, tc.min)
		if got := ""; err != nil {
			got = err.Error()
			if got != tc.want {
				t.Errorf("CheckNewPIN(%q, %q, %d) = %q, want %q", tc.pin, tc.confirm, tc.min, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("CheckNewPIN(%q, %q, %d) accepted, want %q", tc.pin, tc.confirm, tc.min, tc.want)
		}
		if strings.Contains(tc.want, "at least") && !errors.Is(err, ErrPINTooShort) {
			t.Errorf("CheckNewPIN(%q) = %v, not ErrPINTooShort", tc.pin, err)
		}
	}
	if got := PINRuleText(2); got != "At least 4 digits." {
		t.Errorf("PINRuleText(2) = %q", got)
	}
	if got := PINRuleText(6); got != "At least 6 digits." {
		t.Errorf("PINRuleText(6) = %q", got)
	}
}
