package sync

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
	"weak"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// TestStoredIDsDoNotKeepTheFrame: the conversation id and sender of a
// stored message are kept for the whole session (the store's conversation
// cache, the app's per-conversation maps), so they must not be parts of the
// stanza they came from: the read loop decodes each frame in place and
// jid.Bare returns a part of an address already folded, and a 40-byte id
// would then keep a frame of up to 2 MiB (a long pasted report) alive.
func TestStoredIDsDoNotKeepTheFrame(t *testing.T) {
	s, _ := unconnectedSession(t)
	for _, c := range []struct{ name, from, typ string }{
		{"chat", "ana@hospital.test/phone", "chat"},
		{"bare sender", "ana@hospital.test", "chat"},
	} {
		conv, sender := func() (string, string) {
			// One allocation standing in for the frame: from is its front.
			frame := c.from + "\x00" + strings.Repeat("x", 1<<20)
			m := &xmpp.Message{From: frame[:len(c.from)], To: "alice@hospital.test/desk", Type: c.typ,
				ID: "m1", Body: "HR 72, BP 120/80"}
			sm, ok := s.toStored(m, false)
			if !ok {
				t.Fatalf("%s: not stored", c.name)
			}
			wp := weak.Make(unsafe.StringData(frame))
			conv, sender := sm.ConversationID, sm.Extra[securestore.ExtraSender]
			runtime.GC()
			runtime.GC()
			if wp.Value() != nil {
				t.Errorf("%s: the 1 MiB frame is still alive while only the conversation id %q and sender %q are kept", c.name, conv, sender)
			}
			return conv, sender
		}()
		if conv != "ana@hospital.test" || sender != "ana@hospital.test" {
			t.Errorf("%s: conversation %q sender %q", c.name, conv, sender)
		}
	}
}

// TestCatchUpPageReuseLeavesEventsAlone: the catch-up writer fills each page
// into the previous page's message slice; the messages the app was given
// for the previous page (MessagesAdded, read whenever the app gets to it)
// must not change when the next page is converted and stored into that
// slice.
func TestCatchUpPageReuseLeavesEventsAlone(t *testing.T) {
	s, _ := unconnectedSession(t)
	page := func(from, prefix string, n int) xmpp.ArchivePage {
		var p xmpp.ArchivePage
		for i := range n {
			id := fmt.Sprintf("%s%d", prefix, i)
			p.Results = append(p.Results, xmpp.ArchivedMessage{ID: id, Timestamp: time.Date(2026, 12, 7, 9, 0, i, 0, time.UTC),
				Message: &xmpp.Message{From: from + "/phone", To: "alice@hospital.test/desk", Type: "chat", ID: "o" + id,
					Body: prefix + " body " + id, Markable: true}})
		}
		p.Last = p.Results[n-1].ID
		return p
	}
	key := s.cursorKey("")
	var reuse []securestore.Message
	var first []securestore.Message
	for i, pg := range []xmpp.ArchivePage{page("ana@hospital.test", "a", 5), page("bob@hospital.test", "b", 5)} {
		p := s.convertPage(pg, s.account, reuse)
		p.cursor = pg.Last
		if err := s.storePage(key, p); err != nil {
			t.Fatal(err)
		}
		reuse = reusePage(p.batch)
		if i == 0 {
			select {
			case e := <-s.Events():
				ma, ok := e.(MessagesAdded)
				if !ok || len(ma.Messages) != 5 {
					t.Fatalf("first event %#v", e)
				}
				first = ma.Messages
			case <-time.After(5 * time.Second):
				t.Fatal("no event for the first page")
			}
		}
	}
	if cap(reuse) == 0 {
		t.Fatal("the writer did not keep the page's slice (nothing reused: the test proves nothing)")
	}
	for i, m := range first {
		if m.ConversationID != "ana@hospital.test" || m.Body != fmt.Sprintf("a body a%d", i) || m.Extra[extraMarkable] != "1" {
			t.Errorf("first page's message %d changed after the next page: conv %q body %q extra %v", i, m.ConversationID, m.Body, m.Extra)
		}
	}
}
