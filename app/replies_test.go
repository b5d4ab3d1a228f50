package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync"
)

// rowWhere is the newest row of conv that pick accepts.
func (d *device) rowWhere(conv string, pick func(MessageRow) bool) (MessageRow, bool) {
	ms, err := d.c.Messages(conv, 200)
	if err != nil {
		return MessageRow{}, false
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if pick(ms[i]) {
			return ms[i], true
		}
	}
	return MessageRow{}, false
}

func reactionsOf(r MessageRow) string {
	var out []string
	for _, v := range r.Reactions {
		s := v.Emoji + strings.Repeat("+", v.Count-1)
		if v.Mine {
			s += "(mine)"
		}
		out = append(out, s+"["+strings.Join(v.Who, ",")+"]")
	}
	return strings.Join(out, " ")
}

// TestRepliesAndReactions, through the real Prosody: a Rounds reply reaches
// the other Rounds with exactly the typed text and the answered message
// linked (urgent too, the urgency prefix after the quote); reactions go
// both ways, toggle, and are the same on both sides; a reply or reaction
// to a message of another conversation is refused.
func TestRepliesAndReactions(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	if _, err := bob.c.Send(alice.jid, "Bed 4 K+ 6.1\nplease review"); err != nil {
		t.Fatal(err)
	}
	alice.waitUnread(bob.jid, 1)
	orig, _ := alice.rowWhere(bob.jid, func(r MessageRow) bool { return strings.HasPrefix(r.Body, "Bed 4") })

	sent, err := alice.c.Reply(bob.jid, orig.ID, "Repeat sample sent", ClinicalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got MessageRow
	waitFor(t, "bob sees the reply", 30*time.Second, func() bool {
		var ok bool
		got, ok = bob.rowWhere(alice.jid, func(r MessageRow) bool { return strings.Contains(r.Body, "Repeat sample") })
		return ok
	})
	bobsOrig, _ := bob.rowWhere(alice.jid, func(r MessageRow) bool { return strings.HasPrefix(r.Body, "Bed 4") })
	if got.Body != "Repeat sample sent" || got.ReplyTo == nil || got.ReplyTo.ID != bobsOrig.ID ||
		got.ReplyTo.Snippet != "Bed 4 K+ 6.1" || got.ReplyTo.Sender != "You" {
		t.Fatalf("bob's row: body %q reply %+v", got.Body, got.ReplyTo)
	}
	mine, _ := alice.messageRow(bob.jid, sent.ID)
	if mine.Body != "Repeat sample sent" || mine.ReplyTo == nil || mine.ReplyTo.ID != orig.ID || mine.ReplyTo.Sender != bob.jid {
		t.Fatalf("alice's own row: body %q reply %+v", mine.Body, mine.ReplyTo)
	}

	// Urgent: the prefix and the quote both stripped, the text exact.
	if _, err := alice.c.Reply(bob.jid, orig.ID, "  K+ now 6.8, come now  ", ClinicalOptions{Urgency: securestore.UrgencyHigh}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "urgent reply", 30*time.Second, func() bool {
		var ok bool
		got, ok = bob.rowWhere(alice.jid, func(r MessageRow) bool { return strings.Contains(r.Body, "come now") })
		return ok
	})
	if got.Body != "K+ now 6.8, come now" || got.Urgency != securestore.UrgencyHigh || got.ReplyTo == nil || got.ReplyTo.ID != bobsOrig.ID {
		t.Fatalf("urgent reply: %q urgency %v reply %+v", got.Body, got.Urgency, got.ReplyTo)
	}

	// Reactions both ways.
	if err := bob.c.React(alice.jid, got.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	var urgentAtAlice MessageRow
	waitFor(t, "alice sees bob's reaction", 30*time.Second, func() bool {
		urgentAtAlice, _ = alice.rowWhere(bob.jid, func(r MessageRow) bool { return strings.Contains(r.Body, "come now") })
		return reactionsOf(urgentAtAlice) == "👍["+bob.jid+"]"
	})
	if err := alice.c.React(bob.jid, urgentAtAlice.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two thumbs on both sides", 30*time.Second, func() bool {
		a, _ := alice.messageRow(bob.jid, urgentAtAlice.ID)
		b, _ := bob.messageRow(alice.jid, got.ID)
		return reactionsOf(a) == "👍+(mine)["+bob.jid+",You]" && reactionsOf(b) == "👍+(mine)[You,"+alice.jid+"]"
	})
	if err := bob.c.React(alice.jid, got.ID, "👍"); err != nil { // a second tap takes it back
		t.Fatal(err)
	}
	waitFor(t, "bob's withdrawn", 30*time.Second, func() bool {
		a, _ := alice.messageRow(bob.jid, urgentAtAlice.ID)
		return reactionsOf(a) == "👍(mine)[You]"
	})

	// Another conversation's message cannot be answered or reacted to here.
	other, err := alice.c.Send(srv.JID("carol"), "to carol")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Reply(bob.jid, other, "x", ClinicalOptions{}); !errors.Is(err, sync.ErrReplyElsewhere) {
		t.Errorf("reply across conversations: %v", err)
	}
	if err := alice.c.React(bob.jid, other, "👍"); !errors.Is(err, sync.ErrReplyElsewhere) {
		t.Errorf("reaction across conversations: %v", err)
	}
}

// TestRepliesAndReactionsInterop: slixmpp (as Conversations sends them)
// replies and reacts to a Rounds message: Rounds shows the reply's own words
// under the quoted message and the reaction; a reply or reaction naming a
// message of another conversation answers nothing (the reply's text is kept
// whole, quote and all); a Rounds reply reaches slixmpp as quote + text
// with the quote marked as the reply's fallback, so any client reads it.
func TestRepliesAndReactionsInterop(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
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

	page, err := alice.c.Send(carolJID, "Bed 9 BP 82/40")
	if err != nil {
		t.Fatal(err)
	}
	in, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "Bed 9") })
	if err != nil {
		t.Fatal(err)
	}
	toBob, err := alice.c.Send(bob.jid, "Bed 2 for bob only")
	if err != nil {
		t.Fatal(err)
	}
	bobStored, err := alice.c.store.Message(toBob)
	if err != nil {
		t.Fatal(err)
	}

	quote := "> Alice wrote:\n> Bed 9 BP 82/40\n"
	if err := carol.Reply(alice.jid, quote, "Fluids running", "r1", alice.jid, in.OriginID); err != nil {
		t.Fatal(err)
	}
	if err := carol.Reply(alice.jid, "> Bed 2\n", "stolen context", "r2", alice.jid, bobStored.OriginID); err != nil {
		t.Fatal(err)
	}
	// A quote that lies about the message it answers: the thread quotes
	// the message as stored here, not the sender's words for it.
	if err := carol.Reply(alice.jid, "> Bed 9 BP 120/80, stable\n", "Lying quote", "r3", alice.jid, in.OriginID); err != nil {
		t.Fatal(err)
	}
	if err := carol.React(alice.jid, "x1", in.OriginID, []string{"👀"}); err != nil {
		t.Fatal(err)
	}
	if err := carol.React(alice.jid, "x2", bobStored.OriginID, []string{"😈"}); err != nil {
		t.Fatal(err)
	}
	var reply, stolen MessageRow
	waitFor(t, "carol's replies and reaction", 30*time.Second, func() bool {
		reply, _ = alice.rowWhere(carolJID, func(r MessageRow) bool { return strings.Contains(r.Body, "Fluids") })
		stolen, _ = alice.rowWhere(carolJID, func(r MessageRow) bool { return strings.Contains(r.Body, "stolen") })
		p, _ := alice.messageRow(carolJID, page)
		return reply.ID != 0 && stolen.ID != 0 && reactionsOf(p) == "👀["+carolJID+"]"
	})
	if reply.Body != "Fluids running" || reply.ReplyTo == nil || reply.ReplyTo.ID != page {
		t.Errorf("carol's reply: %q %+v", reply.Body, reply.ReplyTo)
	}
	// Its original is not in this conversation: the sender's quote is
	// shown as theirs, apart from their words, and opens nothing.
	if stolen.Body != "stolen context" || stolen.ReplyTo == nil || *stolen.ReplyTo != (QuotedView{FromSender: true, Snippet: "Bed 2"}) {
		t.Errorf("reply naming bob's message: %q %+v", stolen.Body, stolen.ReplyTo)
	}
	if h := stolen.ReplyTo.Heading(); h != "Quoted by the sender" {
		t.Errorf("heading of the sender's quote: %q", h)
	}
	var lying MessageRow
	waitFor(t, "carol's lying quote", 30*time.Second, func() bool {
		lying, _ = alice.rowWhere(carolJID, func(r MessageRow) bool { return strings.Contains(r.Body, "Lying") })
		return lying.ID != 0
	})
	if lying.Body != "Lying quote" || lying.ReplyTo == nil || lying.ReplyTo.ID != page || lying.ReplyTo.Snippet != "Bed 9 BP 82/40" || lying.ReplyTo.FromSender {
		t.Errorf("a lying quote: %q %+v", lying.Body, lying.ReplyTo)
	}
	time.Sleep(500 * time.Millisecond) // the stray reaction went through the same socket, after
	if b, _ := alice.messageRow(bob.jid, toBob); len(b.Reactions) != 0 {
		t.Errorf("carol's reaction landed on bob's message: %s", reactionsOf(b))
	}

	// Rounds' reply as slixmpp (and profanity, poezio) receives it.
	if _, err := alice.c.Reply(carolJID, reply.ID, "Thanks, reviewing at 14:30", ClinicalOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && strings.Contains(e.Body, "reviewing") })
	if err != nil {
		t.Fatal(err)
	}
	wantQuote := "> " + carolJID + " wrote:\n> Fluids running\n" // her name as the thread shows it
	if got.Body != wantQuote+"Thanks, reviewing at 14:30" {
		t.Fatalf("slixmpp shows %q", got.Body)
	}
	n := len([]rune(wantQuote))
	if !slices.ContainsFunc(got.Fallbacks, func(f testpeer.Fallback) bool {
		return f.For == "urn:xmpp:reply:0" && f.Start == 0 && f.End == n
	}) {
		t.Fatalf("fallbacks %+v, want the quote [0,%d) for urn:xmpp:reply:0", got.Fallbacks, n)
	}
}

// TestReactionsFromArchiveCatchUp, through the real Prosody without
// offline storage: bob reacts and changes his mind while alice is signed
// out, so the reactions reach her only through the archive (XEP-0313).
// When she signs in again, the catch-up applies them like live ones: the
// set bob left shows under her message (his withdrawn ✅ does not), a set
// withdrawn whole leaves no chip, and none of it becomes a message.
func TestReactionsFromArchiveCatchUp(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	first, err := alice.c.Send(bob.jid, "Bed 4 K+ 6.1")
	if err != nil {
		t.Fatal(err)
	}
	second, err := alice.c.Send(bob.jid, "Bed 5 obs due")
	if err != nil {
		t.Fatal(err)
	}
	var atBob1, atBob2 MessageRow
	waitFor(t, "bob has both", 30*time.Second, func() bool {
		atBob1, _ = bob.rowWhere(alice.jid, func(r MessageRow) bool { return r.Body == "Bed 4 K+ 6.1" })
		atBob2, _ = bob.rowWhere(alice.jid, func(r MessageRow) bool { return r.Body == "Bed 5 obs due" })
		return atBob1.ID != 0 && atBob2.ID != 0
	})
	before, err := alice.c.Messages(bob.jid, 200)
	if err != nil {
		t.Fatal(err)
	}
	alice.c.SignOut()

	for _, step := range []struct {
		id    MessageID
		emoji string
	}{{atBob1.ID, "👍"}, {atBob1.ID, "✅"}, {atBob1.ID, "✅"}, {atBob2.ID, "👀"}, {atBob2.ID, "👀"}} {
		if err := bob.c.React(alice.jid, step.id, step.emoji); err != nil {
			t.Fatal(err)
		}
	}
	// Bob's own view is the set he left, so the archive holds all five.
	if b, _ := bob.messageRow(alice.jid, atBob1.ID); reactionsOf(b) != "👍(mine)[You]" {
		t.Fatalf("bob's own view: %s", reactionsOf(b))
	}

	c, err := Unlock(context.Background(), alice.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.SignOut)
	alice.c = c
	alice.waitOnline()
	// The page's five reactions are applied one after another, each its own
	// change, so the state between two of them (the first message settled,
	// bob's 👀 on the second not yet withdrawn) can be seen: wait for both.
	// A set withdrawn whole that still shows makes this time out.
	waitFor(t, "bob's reactions from the archive, the 👀 withdrawn", 30*time.Second, func() bool {
		r1, _ := alice.messageRow(bob.jid, first)
		r2, _ := alice.messageRow(bob.jid, second)
		return reactionsOf(r1) == "👍["+bob.jid+"]" && len(r2.Reactions) == 0
	})
	after, err := alice.c.Messages(bob.jid, 200)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("catch-up added %d rows for reactions", len(after)-len(before))
	}
}

// TestRoomReactionsFromArchiveCatchUp: in a care-team room, bob reacts to
// alice's message while she is signed out; at her next sign-in the room's
// archive brings the reaction and it shows under her message, credited to
// bob.
func TestRoomReactionsFromArchiveCatchUp(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	room := "ward4@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{bob.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.JoinRoom(room, "Dr Bob"); err != nil {
		t.Fatal(err)
	}
	id, err := alice.c.Send(room, "Bed 7 drain 120 ml")
	if err != nil {
		t.Fatal(err)
	}
	var atBob MessageRow
	waitFor(t, "bob has it with the room's id", 30*time.Second, func() bool {
		atBob, _ = bob.rowWhere(room, func(r MessageRow) bool { return r.Body == "Bed 7 drain 120 ml" })
		if atBob.ID == 0 {
			return false
		}
		m, err := alice.c.store.Message(id)
		return err == nil && m.StanzaID != ""
	})
	alice.c.SignOut()
	if err := bob.c.React(room, atBob.ID, "👀"); err != nil {
		t.Fatal(err)
	}
	c, err := Unlock(context.Background(), alice.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.SignOut)
	alice.c = c
	alice.waitOnline()
	waitFor(t, "bob's room reaction from the archive", 30*time.Second, func() bool {
		r, _ := alice.messageRow(room, id)
		return len(r.Reactions) == 1 && r.Reactions[0].Emoji == "👀" && !r.Reactions[0].Mine
	})
}

// TestRoomArchiveReactionCreditsItsGiver: a reaction read from a room's
// archive is credited to whoever the archive names as its giver, never to
// whoever holds that nick now. Carol reacts as "Dr Bob" while alice is
// signed out and leaves; bob then takes the nick. At alice's next sign-in
// the reaction is carol's, not bob's.
func TestRoomArchiveReactionCreditsItsGiver(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob", "carol")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	carol := signIn(t, srv, "carol", Config{})
	room := "ward5@conference." + srv.Domain
	if _, err := alice.c.CreateRoom(room, "", "", []string{bob.jid, carol.jid}); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.c.JoinRoom(room, "Dr Bob"); err != nil {
		t.Fatal(err)
	}
	id, err := alice.c.Send(room, "Bed 9 NG tube position?")
	if err != nil {
		t.Fatal(err)
	}
	var atCarol MessageRow
	waitFor(t, "carol has it with the room's id", 30*time.Second, func() bool {
		atCarol, _ = carol.rowWhere(room, func(r MessageRow) bool { return r.Body == "Bed 9 NG tube position?" })
		if atCarol.ID == 0 {
			return false
		}
		m, err := alice.c.store.Message(id)
		return err == nil && m.StanzaID != ""
	})
	alice.c.SignOut()
	if err := carol.c.React(room, atCarol.ID, "👎"); err != nil {
		t.Fatal(err)
	}
	_, cs, err := carol.c.sess()
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.LeaveRoom(context.Background(), room); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.JoinRoom(room, "Dr Bob"); err != nil {
		t.Fatal(err)
	}
	c, err := Unlock(context.Background(), alice.cfg, testPIN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.SignOut)
	alice.c = c
	alice.waitOnline()
	var r MessageRow
	waitFor(t, "carol's room reaction from the archive", 30*time.Second, func() bool {
		r, _ = alice.messageRow(room, id)
		return len(r.Reactions) == 1
	})
	if r.Reactions[0].Emoji != "👎" || len(r.Reactions[0].Who) != 1 {
		t.Fatalf("reactions: %s", reactionsOf(r))
	}
	if who := r.Reactions[0].Who[0]; who != "carol" {
		t.Fatalf("carol's archived reaction is credited to %q, not carol (bob holds her nick now): %s", who, reactionsOf(r))
	}
	// Live, a reaction is credited to the member the room names for the
	// occupant, by name.
	atBob, _ := bob.rowWhere(room, func(r MessageRow) bool { return r.Body == "Bed 9 NG tube position?" })
	if atBob.ID == 0 {
		t.Fatal("bob has no copy of the message")
	}
	if err := bob.c.React(room, atBob.ID, "👀"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's live reaction", 30*time.Second, func() bool {
		r, _ = alice.messageRow(room, id)
		return len(r.Reactions) == 2
	})
	if got := reactionsOf(r); got != "👎[carol] 👀[bob]" {
		t.Fatalf("reactions: %s", got)
	}
}
