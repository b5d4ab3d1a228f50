package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"rounds/sync/xmpp"
)

// TestMain doubles as the body of child processes that the crash tests kill
// with SIGKILL: with ROUNDS_SYNC_CHILD set, the test binary is a Rounds client
// and nothing else.
func TestMain(m *testing.M) {
	if spec := os.Getenv("ROUNDS_SYNC_CHILD"); spec != "" {
		os.Exit(childMain(spec))
	}
	code := m.Run()
	if catchUpArchive.srv != nil {
		catchUpArchive.srv.Stop()
	}
	os.Exit(code)
}

// childSpec tells a child process what to be.
type childSpec struct {
	Mode      string // "send", "catchup", "catchup-stop-at-page" or "catchup-stop-at-edits"
	StorePath string
	URL, JID  string
	Password  string
	To        string // send: recipient
	Count     int    // send: how many
	Prefix    string
	Page      int // catchup: MAM page size
}

// childMain runs a Session and reports progress on stdout, one line per
// durable step, until the parent kills it.
func childMain(raw string) int {
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	st := openStore(childTB{}, spec.StorePath)
	s, err := New(Config{
		Store:       st,
		XMPP:        xmpp.Config{URL: spec.URL, JID: spec.JID, Credentials: xmpp.Credentials{Password: spec.Password}, Resource: "child"},
		CatchUpPage: spec.Page,
		Backoff:     Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	if spec.Mode == "catchup-stop-at-page" {
		// Stop for good right after the first archive page committed: the
		// parent kills us there.
		s.pageCommitted = func(int) {
			fmt.Println("page committed")
			select {}
		}
	}
	if spec.Mode == "catchup-stop-at-edits" {
		// Stop for good right after a page that recorded edits committed,
		// before they are applied: the parent kills us there.
		s.pageCommitted = func(edits int) {
			if edits > 0 {
				fmt.Printf("edits committed %d\n", edits)
				select {}
			}
		}
	}
	go func() {
		for e := range s.Events() {
			if ma, ok := e.(MessagesAdded); ok && ma.CatchUp {
				fmt.Printf("added %d\n", len(ma.Messages))
			}
		}
	}()
	go func() { _ = s.Run(context.Background()) }()
	if spec.Mode == "send" {
		for i := 0; i < spec.Count; i++ {
			if _, err := s.Send(spec.To, fmt.Sprintf("%s-%04d", spec.Prefix, i), SendOptions{}); err != nil {
				fmt.Fprintln(os.Stderr, "child send:", err)
				return 2
			}
			fmt.Printf("queued %d\n", i)
		}
	}
	select {} // until killed
}

// childTB lets the child reuse openStore outside a test.
type childTB struct{ testing.TB }

func (childTB) Helper() {}
func (childTB) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
	os.Exit(2)
}
