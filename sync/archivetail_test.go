package sync

import (
	"testing"
	"time"

	"rounds/internal/hostile"
	"rounds/securestore"
)

// TestArchiveShowsMessageLate: the server routed a message to a socket that
// had died, so it never arrives live, and its archive shows the message only
// seconds after this sign-in's catch-up had read the archive (ejabberd writes
// the recipient's archive row in the recipient's session process, which may
// still be working through the dead session's backlog). The Session re-reads
// the archive's tail after setup, so the message is stored on this sign-in,
// not at the next one (which may be hours away).
func TestArchiveShowsMessageLate(t *testing.T) {
	srv := hostile.Start(hostile.Session{
		MAMResults:     []string{archived("", "a1", "")},
		LateMAMResults: []string{archived("", "a2", "")},
		LateAfter:      3 * time.Second,
	})
	defer srv.Close()
	d := hostileDevice(t, srv)
	d.waitFor("the archived message", 10*time.Second, func() bool { return len(d.conversation("bob@evil.test")) >= 1 })
	d.waitOnline()
	d.waitFor("the message the archive showed late", 25*time.Second, func() bool { return len(d.conversation("bob@evil.test")) >= 2 })
	got := d.bodies("bob@evil.test", securestore.Incoming)
	if got["archived a1"] != 1 || got["archived a2"] != 1 || len(got) != 2 {
		t.Errorf("stored: %v, want each archived message once", got)
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("the late message was read on sign-in %d, not on the first", n)
	}
}
