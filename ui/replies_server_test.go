package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"rounds/app"
	"rounds/internal/testserver"
)

// TestRepliesOnScreenWithProsody drives the real Controller over a real
// app.Client against Prosody: bob's reaction to alice's reply shows as a
// chip under it and the reply's quote above it; a tap on the quote
// highlights bob's message; what alice leaves in the composer comes back as
// "Draft: …" in her inbox row; muting the conversation puts the bell-off
// mark in the header and the row.
func TestRepliesOnScreenWithProsody(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prosody")
	}
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	fa := test.NewTempApp(t)
	alice, aliceUI := signInController(t, srv, fa, "alice")
	bob, _ := signInController(t, srv, fa, "bob")
	if _, err := bob.Send(alice.Account(), "Bed 4 K+ 6.1, please review"); err != nil {
		t.Fatal(err)
	}
	var orig app.MessageRow
	eventually(t, 30*time.Second, "bob's message at alice", func() bool {
		rows, _ := alice.Messages(bob.Account(), 50)
		for _, r := range rows {
			if strings.HasPrefix(r.Body, "Bed 4") {
				orig = r
			}
		}
		return orig.ID != 0
	})
	sent, err := alice.Reply(bob.Account(), orig.ID, "Repeat sample sent", app.ClinicalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var atBob app.MessageRow
	eventually(t, 30*time.Second, "alice's reply at bob", func() bool {
		rows, _ := bob.Messages(alice.Account(), 50)
		for _, r := range rows {
			if r.Body == "Repeat sample sent" {
				atBob = r
			}
		}
		return atBob.ID != 0
	})
	if err := bob.React(alice.Account(), atBob.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "bob's reaction at alice", func() bool {
		rows, _ := alice.Messages(bob.Account(), 50)
		for _, r := range rows {
			if r.ID == sent.ID {
				return len(r.Reactions) == 1
			}
		}
		return false
	})

	v := openRealConversation(t, alice, aliceUI, bob.Account())
	var reply *messageLayout
	eventually(t, 10*time.Second, "the reply drawn with its quote and chip", func() bool {
		drainUI()
		reply = rowParts(v)[sent.ID]
		return reply != nil && reply.reply.quote.Visible() && reply.reply.chips[0].Visible()
	})
	if q := reply.reply.quote; !strings.HasPrefix(q.text.Text, "Bed 4 K+ 6.1") {
		t.Errorf("quote says %q / %q", q.heading.Text, q.text.Text)
	}
	if c := reply.reply.chips[0]; c.label.Text != "👍 1" || c.label.TextStyle.Bold {
		t.Errorf("bob's reaction drawn as %q (bold %v)", c.label.Text, c.label.TextStyle.Bold)
	}
	reply.reply.quote.Tapped(nil)
	if v.Highlighted() != orig.ID {
		t.Errorf("tap on the quote highlights %d, want %d", v.Highlighted(), orig.ID)
	}

	v.composer.SetText("Will call lab about")
	row := func() app.ConversationRow {
		rows, _ := alice.Inbox("")
		for _, r := range rows {
			if r.ID == bob.Account() {
				return r
			}
		}
		return app.ConversationRow{}
	}
	eventually(t, 10*time.Second, "the draft kept", func() bool { drainUI(); return row().Draft == "Will call lab about" })
	drawn := func() *inboxRow {
		s := aliceUI.currentShell()
		if s == nil {
			return nil
		}
		for _, r := range findAll[*inboxRow](s.Inbox) {
			if r.title.Text == row().Title {
				return r
			}
		}
		return nil
	}
	eventually(t, 10*time.Second, "the inbox row says Draft", func() bool {
		drainUI()
		r := drawn()
		return r != nil && r.preview.Text == "Draft: Will call lab about"
	})

	if err := (&actions{c: aliceUI, cl: alice}).MuteConversation(bob.Account(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the muted mark in the header and the row", func() bool {
		drainUI()
		r := drawn()
		return v.mutedBox.Visible() && strings.HasPrefix(v.subtitle.Text, "Muted · ") && r != nil && r.mutedTag.Visible()
	})
}
