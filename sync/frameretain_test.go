package sync

import (
	"runtime"
	"strings"
	"testing"
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
