package app

import (
	"errors"
	"slices"
	"testing"
	"time"
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
