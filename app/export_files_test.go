package app

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
)

// TestConversationExportKeepsFileKeys: a message that shares a file has its
// aesgcm:// link as body, and the link's fragment is the file's key. A
// conversation export (a plaintext file handed to a reviewer) names the file
// instead, on the sender's and the receiver's side, in JSON and CSV, and a
// link pasted into a text loses its fragment.
func TestConversationExportKeepsFileKeys(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	conv, err := alice.c.StartChat(bob.jid)
	if err != nil {
		t.Fatal(err)
	}
	pdf := engineFixture(t, "good_report.pdf")
	if _, err := alice.c.SendFile(context.Background(), conv, "Potassium result.pdf", bytes.NewReader(pdf), int64(len(pdf)), AttachOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	pasted := "see aesgcm://upload.example.org/f/a.pdf#" + strings.Repeat("0f", 44) + " from yesterday"
	if _, err := alice.c.Send(bob.jid, pasted); err != nil {
		t.Fatal(err)
	}
	bob.waitUnread(alice.jid, 2)

	// The stored bodies do carry keys, or this test proves nothing.
	key := regexp.MustCompile(`(?i)aesgcm://[^\s#]*#[0-9a-f]{88}`)
	peerOf := map[*device]string{alice: bob.jid, bob: alice.jid}
	for _, d := range []*device{alice, bob} {
		st, err := d.c.unlocked()
		if err != nil {
			t.Fatal(err)
		}
		ms, err := st.Latest(peerOf[d], 10)
		if err != nil || len(ms) != 2 || !key.MatchString(ms[0].Body) {
			t.Fatalf("%s: stored %d messages (%v), first body has no key", d.jid, len(ms), err)
		}
	}

	for _, d := range []*device{alice, bob} {
		peer := peerOf[d]
		var js, cs bytes.Buffer
		if err := d.c.ExportConversation(&js, peer, "json"); err != nil {
			t.Fatal(err)
		}
		if err := d.c.ExportConversation(&cs, peer, "csv"); err != nil {
			t.Fatal(err)
		}
		for name, out := range map[string]string{"json": js.String(), "csv": cs.String()} {
			if key.MatchString(out) || strings.Contains(out, strings.Repeat("0f", 44)) {
				t.Fatalf("%s's %s export carries a file key:\n%s", d.jid, name, out)
			}
		}
		var x conversationExport
		if err := json.Unmarshal(js.Bytes(), &x); err != nil || len(x.Messages) != 2 {
			t.Fatalf("%s: %v, %+v", d.jid, err, x)
		}
		file, text := x.Messages[0].Body, x.Messages[1].Body
		if !strings.HasPrefix(file, "[file: ") {
			t.Fatalf("%s: file message exported as %q", d.jid, file)
		}
		if d == alice && file != "[file: Potassium result.pdf, application/pdf, "+FormatSize(int64(len(pdf)))+"]" {
			t.Fatalf("sender's file message exported as %q", file)
		}
		if text != "see aesgcm://upload.example.org/f/a.pdf#(key removed) from yesterday" {
			t.Fatalf("%s: pasted link exported as %q", d.jid, text)
		}
	}
}

// TestNotificationCutsPastedFileKeys: where notifications may show text, a
// file link pasted into a message (not sent as a file) reaches the OS
// without its key fragment.
func TestNotificationCutsPastedFileKeys(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{Policy: Policy{Preview: PreviewContent}})
	if err := bob.c.SetNotificationPreview(PreviewContent); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.c.Send(bob.jid, "aesgcm://upload.example.org/a.pdf#"+strings.Repeat("0f", 44)+" is the ECG"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "notification", 20*time.Second, func() bool { return bob.notifier.countFor(alice.jid) > 0 })
	for _, n := range bob.notifier.notifications() {
		if !strings.HasPrefix(n.Body, "aesgcm://upload.example.org/a.pdf#(key removed)") || strings.Contains(n.Body, "0f0f") {
			t.Fatalf("notification body %q", n.Body)
		}
	}
}

func TestWithoutFileKeys(t *testing.T) {
	k := strings.Repeat("Ab", 44)
	for in, want := range map[string]string{
		"plain text":            "plain text",
		"AESGCM://h/p.jpg#" + k: "AESGCM://h/p.jpg#(key removed)",
		"a aesgcm://h/x#" + k + " b aesgcm://g/y#" + k: "a aesgcm://h/x#(key removed) b aesgcm://g/y#(key removed)",
		"https://h/p#frag": "https://h/p#frag",
	} {
		if got := withoutFileKeys(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}
