package securestore

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestCreateOpenRoundTrip(t *testing.T) {
	s, path, opts := newTestStore(t)
	if _, err := Create(path, testPIN, opts); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create: %v", err)
	}
	m := incoming("ward7@hospital.example", "s1", "BP 120/80 bed 4", day0)
	m.Urgency = UrgencyHigh
	m.Extra = map[string]string{"replace": "x1"}
	mustAppend(t, s, m)
	acct := Account{JID: "nurse@hospital.example", Resource: "phone", Credentials: Credentials{
		Mechanism: "SCRAM-SHA-256", Salt: []byte("salt"), Iterations: 4096, SaltedPassword: []byte("spw")}}
	if err := s.SetAccount(acct); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Latest("ward7@hospital.example", 1); !errors.Is(err, ErrLocked) {
		t.Fatalf("after Close: %v", err)
	}
	s2, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.Latest("ward7@hospital.example", 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("Latest: %v %v", got, err)
	}
	g := got[0]
	if g.Body != m.Body || g.Urgency != UrgencyHigh || g.Extra["replace"] != "x1" || !g.Timestamp.Equal(day0) || g.ID == 0 {
		t.Fatalf("round trip mismatch: %+v", g)
	}
	a, err := s2.Account()
	if err != nil || a.JID != acct.JID || a.Credentials.Iterations != 4096 || !bytes.Equal(a.Credentials.SaltedPassword, []byte("spw")) {
		t.Fatalf("account: %+v %v", a, err)
	}
}

func TestFileIsLockedWhileOpen(t *testing.T) {
	_, path, opts := newTestStore(t)
	start := time.Now()
	_, err := Open(path, testPIN, opts)
	wantErr(t, err, ErrInUse)
	if time.Since(start) > 5*time.Second {
		t.Fatal("lock wait not bounded")
	}
}

func TestWrongPINCounterResetAndWipe(t *testing.T) {
	s, path, opts := newTestStore(t)
	opts.MaxWrongPINs = 3
	s.Close()
	_, err := Open(path, []byte("0000"), opts)
	var wp *WrongPINError
	if !errors.As(err, &wp) || !errors.Is(err, ErrWrongPIN) || wp.Remaining != 2 {
		t.Fatalf("first wrong PIN: %v", err)
	}
	_, err = Open(path, []byte("0001"), opts)
	if !errors.As(err, &wp) || wp.Remaining != 1 {
		t.Fatalf("second wrong PIN: %v", err)
	}
	// A correct PIN resets the counter and records the failures in the audit log.
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	log, _ := s.AuditLog()
	if last := log[len(log)-1]; last.Kind != AuditUnlockFailed {
		t.Fatalf("audit after failures: %+v", last)
	}
	s.Close()
	for i := 0; i < 2; i++ {
		_, err = Open(path, []byte("9999"), opts)
		wantErr(t, err, ErrWrongPIN)
	}
	_, err = Open(path, []byte("9999"), opts)
	wantErr(t, err, ErrWiped)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file still there after wipe: %v", err)
	}
}

func TestChangePINDoesNotReencrypt(t *testing.T) {
	s, path, opts := newTestStore(t)
	mustAppend(t, s, incoming("a@h.example", "s1", "hello", day0))
	rawMsgs := func(db *bbolt.DB) map[string][]byte {
		out := map[string][]byte{}
		db.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketMsg).ForEach(func(k, v []byte) error { out[string(k)] = clone(v); return nil })
		})
		return out
	}
	before := rawMsgs(s.db)
	wantErr(t, s.ChangePIN([]byte("bad"), []byte("1357")), ErrWrongPIN)
	if err := s.ChangePIN(testPIN, []byte("1357")); err != nil {
		t.Fatal(err)
	}
	after := rawMsgs(s.db)
	if len(before) != 1 || len(after) != 1 {
		t.Fatal("unexpected record count")
	}
	for k, v := range before {
		if !bytes.Equal(v, after[k]) {
			t.Fatal("message record changed by ChangePIN")
		}
	}
	s.Close()
	_, err := Open(path, testPIN, opts)
	wantErr(t, err, ErrWrongPIN)
	s, err = Open(path, []byte("1357"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Latest("a@h.example", 1); err != nil || got[0].Body != "hello" {
		t.Fatalf("after ChangePIN: %v %v", got, err)
	}
}

func TestKeyringUnlockWithFake(t *testing.T) {
	s, path, opts := newTestStore(t)
	sec := opts.Secrets.(*fakeSecrets)
	s.Close()
	_, err := OpenWithKeyring(path, sec, opts)
	wantErr(t, err, ErrNoKeyringSlot)
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnableKeyring(); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, incoming("a@h.example", "s1", "hello", day0))
	s.Close()
	s, err = OpenWithKeyring(path, sec, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Latest("a@h.example", 1); len(got) != 1 {
		t.Fatal("keyring-opened store cannot read")
	}
	if err := s.DisableKeyring(); err != nil {
		t.Fatal(err)
	}
	if sec.len() != 0 {
		t.Fatal("secret not deleted")
	}
	s.Close()
	_, err = OpenWithKeyring(path, sec, opts)
	wantErr(t, err, ErrNoKeyringSlot)

	// Wipe deletes the keyring secret and the file.
	s, _ = Open(path, testPIN, opts)
	if err := s.EnableKeyring(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wipe(); err != nil {
		t.Fatal(err)
	}
	if sec.len() != 0 {
		t.Fatal("Wipe left the keyring secret")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("Wipe left the file")
	}
	_, err = s.Conversations()
	wantErr(t, err, ErrWiped)
}
