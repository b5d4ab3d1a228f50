package securestore

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"go.etcd.io/bbolt"
)

// auditWork builds a store's audit log the way a day goes: audit entries
// with message traffic (other writes) in between.
func auditWork(t *testing.T, s *Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := s.Audit(AuditExport, fmt.Sprintf("export %d", i)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			var batch []Message
			for j := 0; j < 50; j++ {
				batch = append(batch, incoming("a@h.example", fmt.Sprintf("s%d-%d", i, j), "body", day0.Add(0)))
			}
			mustAppend(t, s, batch...)
		}
	}
}

// olderHeads returns every sealed audit.head value in the raw file (live or
// in free pages) other than the live one: what someone with the file, and
// no key, can put back.
func olderHeads(t *testing.T, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var live []byte
	db.View(func(tx *bbolt.Tx) error { live = clone(tx.Bucket(bucketMeta).Get(metaAuditHead)); return nil })
	db.Close()
	var out [][]byte
	seen := map[string]bool{string(live): true}
	for _, kv := range scanPages(t, raw) {
		if bytes.Equal(kv.k, metaAuditHead) && !seen[string(kv.v)] {
			seen[string(kv.v)] = true
			out = append(out, kv.v)
		}
	}
	return out
}

// TestAuditTruncationWithOldHeadDetected: someone with the file only deletes
// the newest audit entries and puts back an older sealed head found in the
// file's free pages. Before, an older head was always there and the log
// verified; now the free pages are scrubbed after every append, so no older
// head is left, and every truncation (tried with every head the file holds)
// fails VerifyAudit.
func TestAuditTruncationWithOldHeadDetected(t *testing.T) {
	s, path, opts := newTestStore(t)
	auditWork(t, s, 0, 8)
	s.Close()
	heads := olderHeads(t, path)
	if len(heads) != 0 {
		t.Errorf("%d older sealed audit heads left in the file", len(heads))
	}
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The attacker does not know which head matches which count; as an
	// oracle, the test tries every head with every truncation.
	candidates := append(heads, nil) // nil: keep the live head
	for _, h := range candidates {
		for drop := 1; drop <= 4; drop++ {
			if err := os.WriteFile(path, orig, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket(bucketAudit)
				k, _ := b.Cursor().Last()
				last := beUint64(k)
				for i := 0; i < drop; i++ {
					b.Delete(be64(last - uint64(i)))
				}
				if h != nil {
					tx.Bucket(bucketMeta).Put(metaAuditHead, h)
				}
				return nil
			})
			db.Close()
			s, err := Open(path, testPIN, opts)
			if err != nil {
				t.Fatal(err)
			}
			err = s.VerifyAudit()
			s.Close()
			if err == nil {
				t.Fatalf("dropping the newest %d entries with an older head from the file verifies", drop)
			}
			wantErr(t, err, ErrAuditBroken)
		}
	}
}

// TestAuditRollbackOfWholeFileDetectedByKeyring: with a keyring slot, every
// audit append files (count, head, HMAC) in the OS keyring. Restoring an
// older copy of the whole file (which no check inside the file can tell
// from the real thing) then fails VerifyAudit; appending more to the
// restored copy does not hide it while it is behind; a forged anchor fails.
func TestAuditRollbackOfWholeFileDetectedByKeyring(t *testing.T) {
	s, path, opts := newTestStore(t)
	if err := s.EnableKeyring(); err != nil {
		t.Fatal(err)
	}
	auditWork(t, s, 0, 3)
	s.Close()
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, testPIN, opts); err != nil {
		t.Fatal(err)
	}
	auditWork(t, s, 3, 6)
	if err := s.VerifyAudit(); err != nil {
		t.Fatalf("genuine log: %v", err)
	}
	s.Close()
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, testPIN, opts); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.VerifyAudit()
	wantErr(t, err, ErrAuditBroken)
	if !bytes.Contains([]byte(err.Error()), []byte("rolled back")) {
		t.Fatalf("rollback reported as %v", err)
	}
	// A forged anchor (no master key) does not verify either.
	sec := opts.Secrets.(*fakeSecrets)
	v, _ := sec.Get(hexID(s) + auditAnchorSuffix)
	v[0] ^= 1
	sec.Set(hexID(s)+auditAnchorSuffix, v)
	wantErr(t, s.VerifyAudit(), ErrAuditBroken)
	// DisableKeyring takes the anchor with the secret.
	if err := s.DisableKeyring(); err != nil {
		t.Fatal(err)
	}
	if sec.len() != 0 {
		t.Fatal("anchor or secret left in the keyring")
	}
}

// TestAuditExportSignature: the signing key is made once, sealed in the
// store; signatures verify with the public key alone and fail for another
// message or key.
func TestAuditExportSignature(t *testing.T) {
	s, path, opts := newTestStore(t)
	pub, sig, err := s.SignAuditExport([]byte("summary"))
	if err != nil {
		t.Fatal(err)
	}
	if !VerifyAuditExportSignature(pub, []byte("summary"), sig) || VerifyAuditExportSignature(pub, []byte("summary."), sig) {
		t.Fatal("signature check wrong")
	}
	s.Close()
	if s, err = Open(path, testPIN, opts); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pub2, err := s.AuditPublicKey()
	if err != nil || !bytes.Equal(pub, pub2) {
		t.Fatalf("audit key changed across reopen: %v", err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, pub) {
		t.Fatal("audit key material in clear in the file")
	}
}
