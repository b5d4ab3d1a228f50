package sync

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestOwnArchiveRereadCommits: reading our own archive again (here from its
// start, as a tail re-read's look-back or an expired cursor does) over n of
// our messages the store already knows writes about one transaction per
// page, not one or two per message: each per-message commit costs two
// fdatasyncs, and hundreds of them held Run's return past its cancel
// (TestKilledDuringCatchUp/ejabberd at 1000 messages).
func TestOwnArchiveRereadCommits(t *testing.T) {
	testserver.EachServer(t, testOwnArchiveRereadCommits)
}

func testOwnArchiveRereadCommits(t *testing.T, k testserver.Kind) {
	const n, page = 60, 20
	srv := k.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	path := filepath.Join(t.TempDir(), "alice.db")
	alice := startDevice(t, srv, "alice", deviceOptions{storePath: path, resource: "desk", catchUpPage: page})
	bob := srv.JID("bob")
	ids := alice.send(bob, "reread", n)
	alice.allAtLeast(ids, securestore.ReceiptSent, 60*time.Second)
	alice.stop()

	st := openStore(t, path)
	if err := st.SetCursor("mam:"+alice.jid, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var commits atomic.Int64
	again := startDevice(t, srv, "alice", deviceOptions{storePath: path, resource: "desk", catchUpPage: page,
		onCommit: func(securestore.CommitStats) { commits.Add(1) }})
	// Run has returned: the sign-in's catch-up and any tail read are done.
	again.stop()
	got := commits.Load()
	t.Logf("%s: %d commits for a re-read of %d own messages in pages of %d", k, got, n, page)
	if got > n/2 {
		t.Errorf("re-reading %d own messages already stored took %d commits, want about one per page (at most %d)", n, got, n/2)
	}
	st = openStore(t, path)
	defer st.Close()
	for _, id := range ids {
		m, err := st.Message(id)
		if err != nil {
			t.Fatal(err)
		}
		if m.StanzaID == "" || m.Receipt.State < securestore.ReceiptSent {
			t.Fatalf("message %d after the re-read: stanza-id %q, receipt %v; want the archive's id and sent", id, m.StanzaID, m.Receipt.State)
		}
	}
	if q, err := st.Outbox(); err != nil || len(q) != 0 {
		t.Fatalf("Outbox after the re-read: %d messages (%v), want none", len(q), err)
	}
}
