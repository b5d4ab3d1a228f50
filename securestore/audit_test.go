package securestore

import (
	"testing"

	"go.etcd.io/bbolt"
)

func TestAuditChainDetectsTampering(t *testing.T) {
	setup := func(t *testing.T) *Store {
		s, _, _ := newTestStore(t)
		for _, k := range []string{AuditSignIn, AuditExport, AuditRecall, AuditSignIn} {
			if err := s.Audit(k, "n=1"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.VerifyAudit(); err != nil {
			t.Fatalf("fresh chain: %v", err)
		}
		return s
	}
	// rewrite reseals entries as someone holding the data key would.
	rewrite := func(s *Store, fn func(entries map[uint64]AuditEntry, b *bbolt.Bucket)) {
		s.update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketAudit)
			entries := map[uint64]AuditEntry{}
			b.ForEach(func(k, v []byte) error {
				pt, _ := s.openV1(bucketAudit, k, v)
				e, _ := decodeAudit(pt)
				entries[beUint64(k)] = e
				return nil
			})
			fn(entries, b)
			return nil
		})
	}
	put := func(s *Store, b *bbolt.Bucket, seq uint64, e AuditEntry) {
		k := be64(seq)
		b.Put(k, sealV1(nil, s.data, bucketAudit, k, encodeAudit(&e)))
	}
	t.Run("edit", func(t *testing.T) {
		s := setup(t)
		rewrite(s, func(es map[uint64]AuditEntry, b *bbolt.Bucket) {
			e := es[3]
			e.Detail = "nothing happened"
			put(s, b, 3, e)
		})
		wantErr(t, s.VerifyAudit(), ErrAuditBroken)
	})
	t.Run("delete-middle", func(t *testing.T) {
		s := setup(t)
		rewrite(s, func(_ map[uint64]AuditEntry, b *bbolt.Bucket) { b.Delete(be64(3)) })
		wantErr(t, s.VerifyAudit(), ErrAuditBroken)
	})
	t.Run("delete-last", func(t *testing.T) {
		s := setup(t)
		rewrite(s, func(_ map[uint64]AuditEntry, b *bbolt.Bucket) { b.Delete(be64(5)) })
		wantErr(t, s.VerifyAudit(), ErrAuditBroken)
	})
	t.Run("reorder", func(t *testing.T) {
		s := setup(t)
		rewrite(s, func(es map[uint64]AuditEntry, b *bbolt.Bucket) {
			a, c := es[2], es[3]
			a.Seq, c.Seq = 3, 2
			put(s, b, 2, c)
			put(s, b, 3, a)
		})
		wantErr(t, s.VerifyAudit(), ErrAuditBroken)
	})
	t.Run("swap-ciphertexts", func(t *testing.T) {
		s := setup(t)
		rewrite(s, func(_ map[uint64]AuditEntry, b *bbolt.Bucket) {
			v2, v3 := clone(b.Get(be64(2))), clone(b.Get(be64(3)))
			b.Put(be64(2), v3)
			b.Put(be64(3), v2)
		})
		err := s.VerifyAudit()
		wantErr(t, err, ErrAuditBroken)
		wantErr(t, err, ErrCorrupt)
	})
}
