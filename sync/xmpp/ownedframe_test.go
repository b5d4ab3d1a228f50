package xmpp

import (
	"fmt"
	"testing"
)

// TestReadLoopFramesAreNotReused: the read loop decodes each frame in place
// (its names and values are parts of the frame), so every frame must be a
// buffer of its own: the ids and bodies of stanzas read earlier, still held
// by the session (a message being stored, an event the app has not drawn
// yet), stay what they were after later frames of the same size arrive.
func TestReadLoopFramesAreNotReused(t *testing.T) {
	const n = 4
	fs := startFake(t, false, func(f *fakeConn) {
		f.read() // <open/>
		f.send(fakeOpen)
		f.send(`<stream:features xmlns:stream="http://etherx.jabber.org/streams"/>`)
		for i := range n {
			f.send(fmt.Sprintf(`<message xmlns='jabber:client' from='ana@h.org/x' id='id-%d'><body>HR %d</body></message>`, i, 70+i))
		}
	})
	tr, err := dialTransport(ctxT(t), fs.url(), nil, nil, Limits{}, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.open(ctxT(t), "evil.test"); err != nil {
		t.Fatal(err)
	}
	var got []*Element
	for range n {
		el, err := tr.readStanza(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, el)
	}
	for i, el := range got {
		m := ParseMessage(el)
		if m.ID != fmt.Sprintf("id-%d", i) || m.Body != fmt.Sprintf("HR %d", 70+i) {
			t.Errorf("stanza %d now reads id %q body %q: a later frame overwrote it", i, m.ID, m.Body)
		}
	}
}
