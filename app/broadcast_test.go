package app

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestBroadcastStates, through the real Prosody: alice broadcasts to bob,
// carol and dave (routine, acknowledgement asked), listing herself too.
// Each gets a message of their own in their conversation with alice; bob
// acknowledges, carol reads, dave is not signed in. The broadcast view
// shows each state, the CSV export lists the three with ids and states and
// no text, and the audit log names ids only.
func TestBroadcastStates(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol", "dave")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	const text = "BCAST-1 Fire drill at 15:00, ward 7 stays staffed"
	to := []string{bob.jid, carol.jid, srv.JID("dave"), alice.jid, " " + bob.jid + " "}
	v, err := alice.c.SendBroadcast(to, "", text, ClinicalOptions{AckRequired: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Recipients) != 3 {
		t.Fatalf("recipients %+v (want bob, carol, dave once each, alice left out)", v.Recipients)
	}
	for _, r := range v.Recipients {
		if r.Message == 0 {
			t.Fatalf("%s: not sent: %s", r.JID, r.State)
		}
	}
	onBob := bob.waitIncoming(alice.jid, "BCAST-1")
	onCarol := carol.waitIncoming(alice.jid, "BCAST-1")
	if onBob.Body != text || onCarol.Body != text || !onBob.AckRequired {
		t.Fatalf("bob's row %+v, carol's %+v", onBob, onCarol)
	}
	if err := bob.c.Respond(alice.jid, onBob.ID, ResponseAck, ""); err != nil {
		t.Fatal(err)
	}
	if err := carol.c.MarkShown(alice.jid, onCarol.ID); err != nil {
		t.Fatal(err)
	}
	state := func(v BroadcastView, who string) string {
		for _, r := range v.Recipients {
			if r.JID == who {
				return r.Receipt.State.String() + "|" + r.State
			}
		}
		return ""
	}
	waitFor(t, "the broadcast view shows each state", 30*time.Second, func() bool {
		v, err = alice.c.Broadcast(v.ID)
		return err == nil && strings.HasPrefix(state(v, bob.jid), "acknowledged|Acknowledged ") &&
			strings.HasPrefix(state(v, carol.jid), "read|Read ") &&
			strings.HasPrefix(state(v, srv.JID("dave")), "sent|Sent ")
	})
	if v.Summary != "3 people · 1 acknowledged · 1 read · 1 sent" || v.Preview != text {
		t.Fatalf("summary %q preview %q", v.Summary, v.Preview)
	}
	list, err := alice.c.Broadcasts()
	if err != nil || len(list) != 1 || list[0].ID != v.ID {
		t.Fatalf("broadcasts %+v %v", list, err)
	}

	var buf bytes.Buffer
	if err := alice.c.ExportBroadcast(&buf, v.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "BCAST-1") {
		t.Fatalf("the export carries the text:\n%s", buf.String())
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("export: %d rows, %v", len(rows), err)
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		if r[0] != v.ID || r[6] == "" || r[7] == "" {
			t.Fatalf("export row %q", r)
		}
		got[r[5]] = r[8]
	}
	if got[bob.jid] != "acknowledged" || got[carol.jid] != "read" || got[srv.JID("dave")] != "sent" {
		t.Fatalf("export states %v", got)
	}
	entries, err := alice.c.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range entries {
		if e.Kind == AuditBroadcast || (e.Kind == securestore.AuditExport && strings.Contains(e.Detail, v.ID)) {
			kinds[e.Kind] = true
			if strings.Contains(e.Detail, "BCAST") || strings.Contains(e.Detail, "drill") {
				t.Fatalf("audit detail carries text: %q", e.Detail)
			}
		}
	}
	if !kinds[AuditBroadcast] || !kinds[securestore.AuditExport] {
		t.Fatalf("audit kinds %v", kinds)
	}

	if _, err := alice.c.SendBroadcast([]string{alice.jid}, "", text, ClinicalOptions{}); !errors.Is(err, ErrNoRecipients) {
		t.Fatalf("a broadcast to oneself: %v", err)
	}
	if _, err := alice.c.SendBroadcast([]string{"not an address"}, "", text, ClinicalOptions{}); !errors.Is(err, ErrInvalidAddress) {
		t.Fatalf("a bad address: %v", err)
	}
}

// TestRoleGroup: a role group is every shift of the role running now (its
// holder, or its backup when it names none), each once; a role not in the
// schedule, or with no one on now, is refused.
func TestRoleGroup(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	day := func(role, who, backup string, from, until int) Shift {
		return Shift{Role: role, JID: who, Backup: backup, From: now.Add(time.Duration(from) * time.Hour), Until: now.Add(time.Duration(until) * time.Hour)}
	}
	shifts := []Shift{
		day("ICU nurses", "kim@h", "", -2, 6),
		day("icu nurses", "lee@h/phone", "", -1, 1),
		day("ICU nurses", "", "ray@h", -3, 3),
		day("ICU nurses", "old@h", "", -9, -1),
		day("ICU nurses", "kim@h", "", -1, 2),
		day("Night", "ann@h", "", 8, 20),
	}
	got, err := roleGroup(shifts, "ICU Nurses", now)
	if err != nil || !slices.Equal(got, []string{"kim@h", "lee@h", "ray@h"}) {
		t.Fatalf("ICU nurses: %v %v", got, err)
	}
	if _, err := roleGroup(shifts, "Night", now); !errors.Is(err, ErrRoleUnstaffed) {
		t.Fatalf("unstaffed: %v", err)
	}
	if _, err := roleGroup(shifts, "Porters", now); err == nil {
		t.Fatal("a role not in the schedule resolved")
	}
}

// TestBroadcastToRoleGroup, through Prosody: the on-call node names two
// ICU nurses on shift now (and alice, who sends, and one whose shift has
// not started); alice's broadcast to the role reaches the two, each once.
func TestBroadcastToRoleGroup(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, testserver.PubSubAdmin, "alice", "bob", "carol", "dave")
	it := signIn(t, srv, testserver.PubSubAdmin, Config{})
	now := time.Now().UTC().Truncate(time.Second)
	h := func(n int) time.Time { return now.Add(time.Duration(n) * time.Hour) }
	const role = "ICU nurses"
	publish(t, it, OnCallNode, scheduleXML(
		Shift{Role: role, JID: srv.JID("bob"), From: h(-1), Until: h(2)},
		Shift{Role: role, JID: srv.JID("carol"), From: h(-1), Until: h(2)},
		Shift{Role: role, JID: srv.JID("alice"), From: h(-1), Until: h(2)},
		Shift{Role: role, JID: srv.JID("dave"), From: h(3), Until: h(5)},
	))
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	waitFor(t, "schedule at alice", 30*time.Second, func() bool { rs, _ := alice.c.Roles(); return len(rs) == 1 })
	v, err := alice.c.SendBroadcast(nil, "icu NURSES", "ROLEB-1 handover moved to 19:45", ClinicalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, r := range v.Recipients {
		who = append(who, r.JID)
	}
	if !slices.Equal(who, []string{bob.jid, carol.jid}) || v.Role != "icu NURSES" {
		t.Fatalf("role group reached %v (role %q)", who, v.Role)
	}
	bob.waitIncoming(alice.jid, "ROLEB-1")
	carol.waitIncoming(alice.jid, "ROLEB-1")
	// The audit says whom the role resolved to at sending time (the
	// schedule moves on; the record alone is not the audit trail).
	entries, err := alice.c.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	resolved := slices.ContainsFunc(entries, func(e AuditRow) bool {
		return e.Kind == AuditBroadcast && strings.Contains(e.Detail, v.ID) && strings.Contains(e.Detail, "icu NURSES") &&
			strings.Contains(e.Detail, bob.jid) && strings.Contains(e.Detail, carol.jid) && !strings.Contains(e.Detail, "ROLEB")
	})
	if !resolved {
		t.Fatalf("no audit entry names the role's holders: %+v", entries)
	}
}

// TestParseBroadcasts: the stored records that broadcastBook.save writes read
// back; records it never writes (a strange id, a full JID, an unknown
// urgency, nobody, cut short) are refused with errBroadcastRecords.
func TestParseBroadcasts(t *testing.T) {
	files, _ := filepath.Glob("testdata/broadcasts/*.json")
	if len(files) < 7 {
		t.Fatalf("fixtures: %v", files)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := parseBroadcasts(b)
		switch name := filepath.Base(p); {
		case strings.HasPrefix(name, "good_"):
			if err != nil || len(recs) == 0 {
				t.Errorf("%s: %v", name, err)
			}
		case !errors.Is(err, errBroadcastRecords):
			t.Errorf("%s: %v, want errBroadcastRecords", name, err)
		}
	}
}

func FuzzParseBroadcasts(f *testing.F) {
	files, _ := filepath.Glob("testdata/broadcasts/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := parseBroadcasts(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(recs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseBroadcasts(again); err != nil {
			t.Fatalf("records read once do not read again: %v", err)
		}
	})
}
