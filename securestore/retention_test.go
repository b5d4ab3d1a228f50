package securestore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// TestPurgeShredsOldPeriods is the crypto-shredding proof
// (docs/ARCHITECTURE.md, "Security model"):
// recognisable plaintexts never appear in the raw file, and after Purge +
// Close, an attacker who knows the master key and scans every page of the
// file (free pages included) recovers the kept days and nothing of the
// purged ones.
func TestPurgeShredsOldPeriods(t *testing.T) {
	s, path, opts := newTestStore(t)
	const days, perDay = 5, 40
	marker := func(d, i int) string { return fmt.Sprintf("MARKER-D%d-M%03d-", d, i) }
	attMarker := func(d int) string { return fmt.Sprintf("ATTKEY-D%d-", d) }
	assertNoClear := func(when string) {
		t.Helper()
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, needle := range []string{"MARKER-", "ATTKEY-", "ward7@hospital", "Bed 12"} {
			if bytes.Contains(raw, []byte(needle)) {
				t.Fatalf("%s: %q found in clear in the file", when, needle)
			}
		}
	}
	for d := 0; d < days; d++ {
		var batch []Message
		for i := 0; i < perDay; i++ {
			m := incoming("ward7@hospital.example", fmt.Sprintf("d%d-%d", d, i),
				marker(d, i)+strings.Repeat("Bed 12 potassium ", 3), day0.Add(time.Duration(d)*24*time.Hour+time.Duration(i)*time.Minute))
			batch = append(batch, m)
		}
		added := mustAppend(t, s, batch...)
		if err := s.PutAttachment(Attachment{ID: fmt.Sprint("att", d), MessageID: added[0].ID, Name: "scan.png",
			Key: []byte(attMarker(d) + "0123456789abcdef"), URL: "aesgcm://x"}); err != nil {
			t.Fatal(err)
		}
		// Receipts rewrite records: old versions land in free pages.
		if _, err := s.AdvanceReceipt(added[1].ID, "", ReceiptRead, day0, ""); err != nil {
			t.Fatal(err)
		}
		assertNoClear(fmt.Sprintf("after day %d", d))
	}
	// Keep what an attacker could later extract from the device: the master
	// key. And, to prove the ciphertext itself is gone (not only its key),
	// keep the purged period keys too, which a real attacker would not have.
	master := clone(s.master)
	purgedKeys := map[uint64][]byte{}
	s.keysMu.Lock()
	for p, k := range s.periodKeys {
		purgedKeys[p] = clone(k.key)
	}
	s.keysMu.Unlock()
	if len(purgedKeys) != days {
		t.Fatalf("expected %d period keys, have %d", days, len(purgedKeys))
	}
	cut := day0.Truncate(24 * time.Hour).Add(3 * 24 * time.Hour) // purge days 0,1,2
	rep, err := s.Purge(cut)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Periods != 3 || rep.Messages != 3*perDay || rep.Attachments != 3 {
		t.Fatalf("purge report %+v", rep)
	}
	for p := range purgedKeys {
		if s.periodEnd(p).After(cut) {
			delete(purgedKeys, p)
		}
	}
	assertNoClear("after purge, open")
	// The store still works and the kept days are intact.
	if got, err := s.Latest("ward7@hospital.example", 1000); err != nil || len(got) != 2*perDay {
		t.Fatalf("after purge Latest: %d %v", len(got), err)
	}
	if c, _ := s.Conversation("ward7@hospital.example"); c.Unread != 2*perDay {
		t.Fatalf("unread after purge %d", c.Unread)
	}
	_, err = s.Attachment("att0")
	wantErr(t, err, ErrNotFound)
	if err := s.VerifyAudit(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	assertNoClear("after close")

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// 1. No sealed record of a purged period survives anywhere in the file:
	// every such record starts with 0x02 | period.
	for p := range purgedKeys {
		if bytes.Contains(raw, append([]byte{recordV2}, be64(p)...)) {
			t.Fatalf("a record of purged period %d survives in the file", p)
		}
		if bytes.Contains(raw, purgedKeys[p]) {
			t.Fatalf("purged period key %d in clear in the file", p)
		}
	}
	// 2. Forensic scan: every key/value on every page (live or free) opened
	// with every key the attacker can recover.
	recovered, nkeys := forensicRecover(t, raw, master, purgedKeys)
	if nkeys != 2+2+3 {
		t.Fatalf("attacker found %d keys, want master, data, 2 live period keys and 3 oracle keys", nkeys)
	}
	for d := 0; d < days; d++ {
		for i := 0; i < perDay; i++ {
			found := bytes.Contains(recovered, []byte(marker(d, i)))
			if d < 3 && found {
				t.Fatalf("purged message day %d #%d recovered", d, i)
			}
			if d >= 3 && !found {
				t.Fatalf("kept message day %d #%d not recovered: the scan does not work", d, i)
			}
		}
		if found := bytes.Contains(recovered, []byte(attMarker(d))); found != (d >= 3) {
			t.Fatalf("attachment key day %d: recovered=%v", d, found)
		}
	}
	// And the store reopens and works after compaction.
	s, err = Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _ := s.Latest("ward7@hospital.example", 1000); len(got) != 2*perDay {
		t.Fatal("reopen after purge")
	}
}

// forensicRecover is what an attacker who has the file and the master key
// (the PIN) can read: every key/value on every page (live or free) opened
// with the master key, the data key, every period key found sealed in the
// file, and the oracle keys given (which a real attacker would not have).
// It returns the concatenated plaintexts and how many keys were tried.
func forensicRecover(t *testing.T, raw, master []byte, oracle map[uint64][]byte) ([]byte, int) {
	t.Helper()
	var id []byte
	pairs := scanPages(t, raw)
	for _, kv := range pairs {
		if bytes.Equal(kv.k, hdrID) && len(kv.v) == storeIDSize {
			id = kv.v
		}
	}
	if id == nil {
		t.Fatal("store id not found by the page scan")
	}
	dataKey := deriveSubkey(master, id, "rounds/data/v1")
	keys := [][]byte{master, dataKey}
	for _, kv := range pairs { // period keys found in the file, live or free
		if pt, ok := tryOpen(dataKey, kv, bucketKeys); ok && len(pt) == keySize {
			keys = append(keys, pt)
		}
	}
	for _, k := range oracle {
		keys = append(keys, k)
	}
	var recovered []byte
	for _, kv := range pairs {
		for _, k := range keys {
			for _, b := range allBuckets {
				if pt, ok := tryOpen(k, kv, b); ok {
					recovered = append(recovered, pt...)
				}
			}
		}
	}
	return recovered, len(keys)
}

type rawKV struct{ k, v []byte }

// scanPages parses every page of a bbolt file as a leaf page, free or not,
// recursing into inline buckets: what a forensic tool would recover.
func scanPages(t *testing.T, raw []byte) []rawKV {
	ps := int(binary.LittleEndian.Uint32(raw[24:28]))
	var out []rawKV
	var parse func(p []byte, depth int)
	parse = func(p []byte, depth int) {
		if len(p) < 16 || depth > 4 {
			return
		}
		if binary.LittleEndian.Uint16(p[8:10])&0x02 == 0 { // leaf flag
			return
		}
		n := int(binary.LittleEndian.Uint16(p[10:12]))
		for i := 0; i < n; i++ {
			off := 16 + i*16
			if off+16 > len(p) {
				return
			}
			flags := binary.LittleEndian.Uint32(p[off:])
			pos := int(binary.LittleEndian.Uint32(p[off+4:]))
			ks := int(binary.LittleEndian.Uint32(p[off+8:]))
			vs := int(binary.LittleEndian.Uint32(p[off+12:]))
			start := off + pos
			if pos < 0 || ks < 0 || vs < 0 || start+ks+vs > len(p) || start+ks+vs < start {
				continue
			}
			k, v := p[start:start+ks], p[start+ks:start+ks+vs]
			if flags&1 != 0 { // bucket: inline page after the 16-byte bucket header
				if len(v) > 16 {
					parse(v[16:], depth+1)
				}
				continue
			}
			out = append(out, rawKV{clone(k), clone(v)})
		}
	}
	for off := 0; off+ps <= len(raw); off += ps {
		overflow := int(binary.LittleEndian.Uint32(raw[off+12 : off+16]))
		end := off + (1+overflow)*ps
		if overflow < 0 || end > len(raw) {
			end = len(raw)
		}
		parse(raw[off:end], 0)
	}
	if len(out) == 0 {
		t.Fatal("page scan found nothing")
	}
	return out
}

func tryOpen(key []byte, kv rawKV, bucket []byte) ([]byte, bool) {
	env, err := decodeEnvelope(kv.v)
	if err != nil {
		return nil, false
	}
	pt, err := openEnvelope(newAEAD(key), env, bucket, kv.k)
	return pt, err == nil
}
