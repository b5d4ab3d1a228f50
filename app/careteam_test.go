package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// TestReadByThreeMembers: alice's care-team room has bob, carol and dave;
// bob and carol read her message (carol by reading a later one), dave does
// not. "Read by" lists bob and carol with their times and dave as not yet.
func TestReadByThreeMembers(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol", "dave")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	dave := signIn(t, srv, "dave", Config{})
	room := "icu-team@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "ICU team", []string{bob.jid, carol.jid, dave.jid}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{bob, carol, dave} {
		if _, err := d.c.JoinRoom(room, ""); err != nil {
			t.Fatal(err)
		}
	}
	first, err := alice.c.Send(room, "Bed 4 obs due")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Send(room, "Bed 5 obs due"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{bob, carol, dave} {
		d.waitUnread(room, 2)
	}
	bms, _ := bob.c.Messages(room, 10)
	if err := bob.c.MarkShown(room, bms[0].ID); err != nil {
		t.Fatal(err)
	}
	cms, _ := carol.c.Messages(room, 10)
	if err := carol.c.MarkShown(room, cms[len(cms)-1].ID); err != nil {
		t.Fatal(err)
	}
	var rows []ReadByRow
	waitFor(t, "two readers", 30*time.Second, func() bool {
		rows, err = alice.c.ReadBy(room, first)
		n := 0
		for _, r := range rows {
			if r.Read {
				n++
			}
		}
		return err == nil && n == 2
	})
	if len(rows) != 3 {
		t.Fatalf("read-by rows %+v, want bob, carol and dave", rows)
	}
	read := map[string]bool{}
	for _, r := range rows[:2] {
		if !r.Read || r.At.IsZero() {
			t.Fatalf("reader without a time: %+v", r)
		}
		read[r.Address] = true
	}
	if !read[bob.jid] || !read[carol.jid] {
		t.Fatalf("readers %+v", rows[:2])
	}
	if rows[2].Address != dave.jid || rows[2].Read || rows[2].Name != "dave" {
		t.Fatalf("not yet read: %+v", rows[2])
	}
}

// TestCareTeamMembersAndInvitation: alice creates a room with carol (who is
// invited) and adds bob
// (member list + invitation); bob's inbox offers the invitation, which he
// accepts; alice makes him an admin and removes carol; bob, as admin, sees
// the team with roles; carol, no longer a member, may not manage it.
func TestCareTeamMembersAndInvitation(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	room := "ward-7@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "Ward 7", []string{carol.jid}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "carol's invitation from the room's creation", 30*time.Second, func() bool {
		inv, _ := carol.c.Invitations()
		return len(inv) == 1 && inv[0].Room == room && inv[0].Reason == "Ward 7"
	})
	if err := alice.c.AddRoomMember(room, bob.jid); err != nil {
		t.Fatal(err)
	}
	var inv []InvitationRow
	waitFor(t, "bob's invitation", 30*time.Second, func() bool {
		inv, _ = bob.c.Invitations()
		return len(inv) == 1
	})
	// alice is not among bob's contacts: the invitation names her by her
	// whole address and says so (a local part alone, "alice", reads the
	// same from alice@any-server).
	if inv[0].Room != room || inv[0].From != alice.jid || inv[0].FromName != alice.jid || inv[0].Caution != InvitationNotAContact {
		t.Fatalf("invitation row %+v", inv[0])
	}
	if _, err := bob.c.AcceptInvitation(room); err != nil {
		t.Fatal(err)
	}
	if r, ok := bob.row(room); !ok || !r.IsRoom {
		t.Fatalf("room not in bob's inbox after accepting: %+v", r)
	}
	if inv, _ := bob.c.Invitations(); len(inv) != 0 {
		t.Fatalf("invitation left after accepting: %+v", inv)
	}
	if err := alice.c.MakeRoomAdmin(room, bob.jid); err != nil {
		t.Fatal(err)
	}
	if err := alice.c.RemoveRoomMember(room, carol.jid); err != nil {
		t.Fatal(err)
	}
	rows, err := bob.c.RoomMembers(room)
	if err != nil {
		t.Fatal(err)
	}
	want := []RoomMemberRow{
		{Address: alice.jid, Name: "alice", Role: RoomRoleOwner},
		{Address: bob.jid, Name: "You", Role: RoomRoleAdmin, Self: true},
	}
	if len(rows) != len(want) || rows[0] != want[0] || rows[1] != want[1] {
		t.Fatalf("team %+v, want %+v", rows, want)
	}
	if !CanManageRoom(rows) {
		t.Fatal("an admin may not manage the team")
	}
	if err := carol.c.AddRoomMember(room, srv.JID("carol")); !errors.Is(err, ErrRoomRefused) {
		t.Fatalf("a removed member managing the team: %v", err)
	}
}

// TestRoomsFollowedElsewhereAudited: a room another device of the account
// joined is joined here at sign-in, and one it left is left here at once;
// neither is the user's act on this device, and neither was audited, so a
// care-team room could vanish from a ward device without a trace.
func TestRoomsFollowedElsewhereAudited(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	phone := signIn(t, srv, "alice", Config{Resource: "phone"})
	room := "ward-9@conference." + srv.Domain
	if _, err := phone.c.CreateRoom(room, "", "Ward 9", nil); err != nil {
		t.Fatal(err)
	}
	desk := signIn(t, srv, "alice", Config{Resource: "desk"})
	// Another client of the account leaves: its bookmark is retracted.
	ctx := context.Background()
	other, err := xmpp.Dial(ctx, xmpp.Config{URL: srv.WSURL(), JID: srv.JID("alice"), Resource: "other",
		Credentials: xmpp.Credentials{Password: testserver.Password}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.RetractBookmark(ctx, room); err != nil {
		t.Fatal(err)
	}
	has := func(kind string) bool {
		rows, _ := desk.c.AuditEntries()
		for _, r := range rows {
			if r.Kind == kind && r.Detail == room {
				return true
			}
		}
		return false
	}
	waitFor(t, "the room left on the phone audited on the desk", 30*time.Second, func() bool { return has(AuditRoomLeftElsewhere) })
	if !has(AuditRoomJoinedElsewhere) {
		t.Fatal("the room joined at sign-in from the phone's bookmark was not audited")
	}
}
