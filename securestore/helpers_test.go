package securestore

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testKDF is the cheapest Argon2id the validator accepts: tests exercise the
// key hierarchy, not the cost.
var testKDF = KDFParams{Time: 1, Memory: 64, Threads: 1}

var testPIN = []byte("2468")

// fakeSecrets is an in-memory KeySecrets.
type fakeSecrets struct {
	mu sync.Mutex
	m  map[string][]byte
}

func newFakeSecrets() *fakeSecrets { return &fakeSecrets{m: map[string][]byte{}} }

func (f *fakeSecrets) Get(id string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.m[id]
	if !ok {
		return nil, ErrNotFound
	}
	return clone(v), nil
}

func (f *fakeSecrets) Set(id string, s []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[id] = clone(s)
	return nil
}

func (f *fakeSecrets) Delete(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, id)
	return nil
}

func (f *fakeSecrets) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

// testClock is an injectable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testOptions() Options {
	clk := &testClock{t: time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)}
	return Options{KDF: testKDF, Secrets: newFakeSecrets(), Now: clk.Now, LockTimeout: 200 * time.Millisecond}
}

func newTestStore(t testing.TB) (*Store, string, Options) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "account.db")
	opts := testOptions()
	s, err := Create(path, testPIN, opts)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path, opts
}

func mustAppend(t testing.TB, s *Store, batch ...Message) []Message {
	t.Helper()
	added, err := s.AppendMessages(batch)
	if err != nil {
		t.Fatalf("AppendMessages: %v", err)
	}
	return added
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

var day0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func incoming(conv, stanzaID, body string, at time.Time) Message {
	return Message{ConversationID: conv, From: conv + "/phone", To: "me@hospital.example/desk",
		Direction: Incoming, Body: body, StanzaID: stanzaID, StanzaIDBy: "me@hospital.example",
		OriginID: "o-" + stanzaID, Timestamp: at}
}

func hexID(s *Store) string { return (&header{id: s.id}).idHex() }
