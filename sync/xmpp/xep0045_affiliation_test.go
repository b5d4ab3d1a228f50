package xmpp

import (
	"errors"
	"slices"
	"testing"

	"rounds/internal/testserver"
)

// TestCreatedRoomConfigReadBack: a room made by CreateRoom, its owner form
// read back from Prosody, has every safe setting applied (members-only,
// non-anonymous with real JIDs to anyone, persistent, not public, archived),
// and its member list holds the creator as owner and the invitees as
// members. Disco#info features alone (what CreateRoom checks) do not show
// whois or the archive switch as the room stores them.
func TestCreatedRoomConfigReadBack(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	room := "icu-team@conference." + s.Domain
	alice := dialT(t, baseConfig(s, "alice"))
	if err := alice.CreateRoom(ctxT(t), room, "alice", RoomConfig{Name: "ICU team", Members: []string{s.JID("bob"), s.JID("carol")}}); err != nil {
		t.Fatal(err)
	}
	cfg, err := alice.RoomConfiguration(ctxT(t), room)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		roomFieldMembersOnly:             "1",
		roomFieldWhois:                   "anyone",
		roomFieldPersistent:              "1",
		roomFieldPublic:                  "0",
		roomFieldName:                    "ICU team",
		"muc#roomconfig_enablearchiving": "1",
	}
	for f, v := range want {
		got, ok := cfg[f]
		if !ok {
			t.Errorf("%s: not in the room's form", f)
			continue
		}
		if normBool(got) != v {
			t.Errorf("%s = %q, want %q", f, got, v)
		}
	}
	affs, err := alice.RoomAffiliations(ctxT(t), room)
	if err != nil {
		t.Fatal(err)
	}
	wantAffs := []RoomAffiliation{
		{JID: s.JID("alice"), Affiliation: AffiliationOwner},
		{JID: s.JID("bob"), Affiliation: AffiliationMember},
		{JID: s.JID("carol"), Affiliation: AffiliationMember},
	}
	sortAffs(affs)
	if !slices.EqualFunc(affs, wantAffs, func(a, b RoomAffiliation) bool { return a.JID == b.JID && a.Affiliation == b.Affiliation }) {
		t.Fatalf("affiliations %+v, want %+v", affs, wantAffs)
	}
}

// TestRoomAffiliationChanges: the owner makes bob an admin and removes
// carol; the lists read back say so, carol can no longer join the
// members-only room, and bob (now admin) may add dave.
func TestRoomAffiliationChanges(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol", "dave")
	room := "ward-5@conference." + s.Domain
	alice, bob, carol := dialT(t, baseConfig(s, "alice")), dialT(t, baseConfig(s, "bob")), dialT(t, baseConfig(s, "carol"))
	if err := alice.CreateRoom(ctxT(t), room, "alice", RoomConfig{Members: []string{s.JID("bob"), s.JID("carol")}}); err != nil {
		t.Fatal(err)
	}
	if err := alice.SetRoomAffiliation(ctxT(t), room, s.JID("bob"), AffiliationAdmin); err != nil {
		t.Fatal(err)
	}
	if err := alice.SetRoomAffiliation(ctxT(t), room, s.JID("carol"), AffiliationNone); err != nil {
		t.Fatal(err)
	}
	if err := bob.SetRoomAffiliation(ctxT(t), room, s.JID("dave"), AffiliationMember); err != nil {
		t.Fatalf("admin adding a member: %v", err)
	}
	affs, err := bob.RoomAffiliations(ctxT(t), room)
	if err != nil {
		t.Fatal(err)
	}
	sortAffs(affs)
	got := map[string]string{}
	for _, a := range affs {
		got[a.JID] = a.Affiliation
	}
	want := map[string]string{s.JID("alice"): AffiliationOwner, s.JID("bob"): AffiliationAdmin, s.JID("dave"): AffiliationMember}
	if len(got) != len(want) {
		t.Fatalf("affiliations %v, want %v", got, want)
	}
	for j, a := range want {
		if got[j] != a {
			t.Fatalf("affiliations %v, want %v", got, want)
		}
	}
	err = carol.JoinRoom(ctxT(t), room, "carol")
	var se *StanzaError
	if !errors.As(err, &se) || se.Condition != "registration-required" {
		t.Fatalf("removed member joining: %v, want registration-required", err)
	}
	if err := alice.SetRoomAffiliation(ctxT(t), room, "not a jid", AffiliationMember); err == nil {
		t.Fatal("a malformed JID was sent")
	}
	if err := alice.SetRoomAffiliation(ctxT(t), room, s.JID("dave"), "outcast"); err == nil {
		t.Fatal("an affiliation outside owner/admin/member/none was sent")
	}
}

func sortAffs(a []RoomAffiliation) {
	slices.SortFunc(a, func(x, y RoomAffiliation) int {
		if x.JID < y.JID {
			return -1
		}
		if x.JID > y.JID {
			return 1
		}
		return 0
	})
}

// normBool: a form boolean may be "1"/"true", "0"/"false".
func normBool(v string) string {
	switch v {
	case "true":
		return "1"
	case "false":
		return "0"
	}
	return v
}
