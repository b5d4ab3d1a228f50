package securestore

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestDedupeMACIsStoreMAC: the append's reused keyed hash gives, message
// after message, exactly the keys Store.mac gives (what earlier records were
// indexed with and what lookups use): a part longer than the next one, or a
// kind present in one message and not the next, leaves nothing behind.
func TestDedupeMACIsStoreMAC(t *testing.T) {
	s, _, _ := newTestStore(t)
	inputs := [][]string{
		{"ana@h.org", strings.Repeat("s", 300)},
		{"ana@h.org", "s1"},
		{"ana@h.org", "bob@h.org", "o1"},
		{"b@h.org", "", "o1"},
		{"ana@h.org", "s1"},
		{"x", strings.Repeat("é", 200), "o"},
		{""},
	}
	for round := range 2 { // the second transaction takes the pooled hash
		err := s.db.Update(func(tx *bbolt.Tx) error {
			a := s.beginAppend(tx)
			defer a.committed()
			for i, in := range inputs {
				for _, tag := range []byte{tagStanza, tagSenderOrigin, tagOrigin} {
					if got, want := a.dedupeMAC(tag, in...), toDedupeKey(s.mac(tag, in...)); got != want {
						t.Errorf("round %d input %d tag %d: dedupe key %x, Store.mac %x", round, i, tag, got, want)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBatchRecordsCutFromOneSlab: one transaction of many messages of
// every size (past the 32 KiB slab, so keys and sealed values come from
// several) stores each message whole: no record overwrites another's bytes
// before the commit, every record opens after reopening, each seal has its
// own nonce, and duplicates within and across batches are still told apart
// from distinct messages that share an origin-id.
func TestBatchRecordsCutFromOneSlab(t *testing.T) {
	s, path, opts := newTestStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var batch []Message
	want := map[string]string{} // stanza-id -> body
	for i := range 1500 {
		n := rng.IntN(2000)
		if i%97 == 0 {
			n = 40<<10 + rng.IntN(8<<10) // larger than a whole slab
		}
		conv := fmt.Sprintf("p%d@h.org", i%7)
		m := incoming(conv, fmt.Sprintf("s%d", i), fmt.Sprintf("%d:%s", i, strings.Repeat(string(rune('a'+i%26)), n)), day0.Add(timeStep(i)))
		m.Extra = map[string]string{ExtraSender: conv}
		want[m.StanzaID] = m.Body
		batch = append(batch, m)
	}
	// Within the batch: the same stanza-id again (a duplicate), the same
	// origin-id from another sender with other words (a distinct message).
	dupStanza := batch[10]
	dupStanza.Body = "other words"
	otherSender := batch[11]
	otherSender.StanzaID = "s-other"
	otherSender.Body = "another sender's words"
	otherSender.Extra = map[string]string{ExtraSender: "mallory@h.org"}
	want["s-other"] = otherSender.Body
	batch = append(batch, dupStanza, otherSender)
	added := mustAppend(t, s, batch...)
	if len(added) != len(batch)-1 {
		t.Fatalf("added %d of %d, want all but the repeated stanza-id", len(added), len(batch))
	}
	if again := mustAppend(t, s, batch...); len(again) != 0 {
		t.Fatalf("the same batch again added %d", len(again))
	}
	check := func(s *Store, when string) {
		for _, m := range added {
			got, err := s.Message(m.ID)
			if err != nil {
				t.Fatalf("%s: message %d: %v", when, m.ID, err)
			}
			if got.Body != want[got.StanzaID] || got.ConversationID != m.ConversationID {
				t.Fatalf("%s: message %d (%s) came back with body of %d bytes in %s", when, m.ID, m.StanzaID, len(got.Body), got.ConversationID)
			}
		}
	}
	check(s, "after commit")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	check(s2, "after reopening")
	nonces := map[string]bool{}
	err = s2.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMsg).ForEach(func(k, v []byte) error {
			nonce := string(v[9:v2HeaderSize])
			if nonces[nonce] || bytes.Count([]byte(nonce), []byte{0}) == len(nonce) {
				t.Errorf("record %x: nonce %x repeated or zero", k, nonce)
			}
			nonces[nonce] = true
			return nil
		})
	})
	if err != nil || len(nonces) != len(added) {
		t.Fatalf("%d nonces for %d records (%v)", len(nonces), len(added), err)
	}
}

func timeStep(i int) time.Duration { return time.Duration(i) * time.Second }
