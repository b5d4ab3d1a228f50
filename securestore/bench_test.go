package securestore

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// Benchmarks for docs/BENCHMARKS.md. Run:
//
//	go test ./securestore/ -run '^$' -bench . -benchtime 1x -count 3
const (
	benchMessages = 100_000
	benchBatch    = 100
	benchConvs    = 200
)

// benchKDF makes unlock cost ~0.1 ms so "open + unlock + first page" measures
// the store, not Argon2id (the KDF's own cost is reported by BenchmarkKDFDefault).
var benchKDF = KDFParams{Time: 1, Memory: 64, Threads: 1}

func benchOptions() Options {
	o := testOptions()
	o.KDF = benchKDF
	o.Logger = slog.New(slog.DiscardHandler) // log lines would split benchmark output
	return o
}

// benchMessage is a realistic clinical chat message: JIDs, XEP-0359 ids, a
// 120-character body.
func benchMessage(i int) Message {
	conv := fmt.Sprintf("clinician%03d@hospital.example", i%benchConvs)
	return Message{
		ConversationID: conv,
		From:           conv + "/phone-7f3a",
		To:             "nurse.station4@hospital.example/desk",
		Direction:      Direction(i % 2),
		Body:           fmt.Sprintf("Bed %02d: BP 118/76, HR 82, SpO2 97%%, pain 3/10. Please review the potassium result before rounds #%06d", i%40, i),
		OriginID:       fmt.Sprintf("4f1c2a9e-6b1d-4c5e-9a77-%012d", i),
		StanzaID:       fmt.Sprintf("mam-%016d", i),
		StanzaIDBy:     "nurse.station4@hospital.example",
		Timestamp:      day0.Add(time.Duration(i) * time.Second),
		ReceivedAt:     day0.Add(time.Duration(i)*time.Second + 300*time.Millisecond),
	}
}

func appendEncrypted(b *testing.B, s *Store) time.Duration {
	batch := make([]Message, 0, benchBatch)
	start := time.Now()
	for i := 0; i < benchMessages; i += benchBatch {
		batch = batch[:0]
		for j := i; j < i+benchBatch; j++ {
			batch = append(batch, benchMessage(j))
		}
		if _, err := s.AppendMessages(batch); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// Buckets of the plain baseline: what a straightforward unencrypted app
// would keep.
var (
	plainMsg  = []byte("msg")  // local id (8 B BE, bucket sequence) -> encoded message
	plainCix  = []byte("cix")  // conv JID | 0x00 | time ns (8 B BE) | local id -> ""
	plainSid  = []byte("sid")  // stanza-id -> local id
	plainOid  = []byte("oid")  // origin-id -> local id
	plainConv = []byte("conv") // conv JID -> encoded conversation
)

// appendPlain is the honest baseline: the same messages, batches and
// durability (same bbolt options: page size, freelist, fsync on every commit)
// written by a plain app with a natural layout and clear keys: sequential
// message keys (FillPercent 1.0, the same tuning the store uses), a
// conversation index keyed by the clear JID and time, and stanza-id and
// origin-id indexes keyed by the clear ids, checked on disk before each
// insert (dedupe). Each touched conversation record is read, updated and
// written once per batch. No sealing, no HMAC, no in-memory map.
func appendPlain(b *testing.B, db *bbolt.DB) time.Duration {
	start := time.Now()
	for i := 0; i < benchMessages; i += benchBatch {
		err := db.Update(func(tx *bbolt.Tx) error {
			msgs, cix, sid, oid, conv := tx.Bucket(plainMsg), tx.Bucket(plainCix), tx.Bucket(plainSid), tx.Bucket(plainOid), tx.Bucket(plainConv)
			msgs.FillPercent = 1.0
			convs := map[string]*Conversation{}
			var scratch []byte
			for j := i; j < i+benchBatch; j++ {
				m := benchMessage(j)
				c := convs[m.ConversationID]
				if c == nil {
					c = &Conversation{ID: m.ConversationID}
					if v := conv.Get([]byte(m.ConversationID)); v != nil {
						cc, err := decodeConversation(v)
						if err != nil {
							return err
						}
						*c = cc
					}
					convs[m.ConversationID] = c
				}
				if sid.Get([]byte(m.StanzaID)) != nil || oid.Get([]byte(m.OriginID)) != nil {
					continue
				}
				seq, _ := msgs.NextSequence()
				key := be64(seq)
				m.ID = MessageID(seq)
				scratch = encodeMessage(scratch[:0], &m)
				if err := msgs.Put(key, clone(scratch)); err != nil {
					return err
				}
				ck := append([]byte(m.ConversationID), 0)
				ck = binary.BigEndian.AppendUint64(ck, uint64(m.Timestamp.UnixNano()))
				ck = binary.BigEndian.AppendUint64(ck, seq)
				if err := cix.Put(ck, []byte{}); err != nil {
					return err
				}
				if err := sid.Put([]byte(m.StanzaID), key); err != nil {
					return err
				}
				if err := oid.Put([]byte(m.OriginID), key); err != nil {
					return err
				}
				c.LastActivity = m.Timestamp
				if m.Direction == Incoming {
					c.Unread++
				}
			}
			for id, c := range convs {
				if err := conv.Put([]byte(id), encodeConversation(c)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkAppend100k appends 100k messages in batches of 100, encrypted and
// plain, in the same run (alternating which goes first), and reports both
// rates, the time ratio and the file sizes.
func BenchmarkAppend100k(b *testing.B) { benchAppend(b, false) }

// BenchmarkAppend100kNoSync is a diagnostic, not the target: the same runs
// with fsync off on both sides, to show how much of the time is CPU and how
// much is waiting for the disk. The app never runs without fsync.
func BenchmarkAppend100kNoSync(b *testing.B) { benchAppend(b, true) }

func benchAppend(b *testing.B, noSync bool) {
	opts := benchOptions()
	opts.NoSync = noSync
	var encT, plainT time.Duration
	var size, plainSize int64
	for n := 0; n < b.N; n++ {
		dir := b.TempDir()
		enc := func() {
			s, err := Create(filepath.Join(dir, "enc.db"), testPIN, opts)
			if err != nil {
				b.Fatal(err)
			}
			encT += appendEncrypted(b, s)
			s.Close()
			st, _ := os.Stat(filepath.Join(dir, "enc.db"))
			size = st.Size()
		}
		plain := func() {
			db, err := bbolt.Open(filepath.Join(dir, "plain.db"), 0o600, boltOptions(opts))
			if err != nil {
				b.Fatal(err)
			}
			db.Update(func(tx *bbolt.Tx) error {
				for _, name := range [][]byte{plainMsg, plainCix, plainSid, plainOid, plainConv} {
					tx.CreateBucketIfNotExists(name)
				}
				return nil
			})
			plainT += appendPlain(b, db)
			db.Close()
			st, _ := os.Stat(filepath.Join(dir, "plain.db"))
			plainSize = st.Size()
		}
		if n%2 == 0 {
			enc()
			plain()
		} else {
			plain()
			enc()
		}
	}
	msgs := float64(benchMessages * b.N)
	b.ReportMetric(msgs/encT.Seconds(), "enc_msgs/s")
	b.ReportMetric(msgs/plainT.Seconds(), "plain_msgs/s")
	b.ReportMetric(encT.Seconds()/plainT.Seconds(), "enc/plain")
	b.ReportMetric(float64(size)/benchMessages, "file_bytes/msg")
	b.ReportMetric(float64(plainSize)/benchMessages, "plain_file_bytes/msg")
}

var (
	storeOnce sync.Once
	storePath string
	storeDir  string
)

// bench100k builds (once per process) a closed store with 100k messages in
// 200 conversations.
func bench100k(b *testing.B) string {
	storeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rounds-bench")
		if err != nil {
			b.Fatal(err)
		}
		storeDir = dir
		storePath = filepath.Join(dir, "100k.db")
		s, err := Create(storePath, testPIN, benchOptions())
		if err != nil {
			b.Fatal(err)
		}
		appendEncrypted(b, s)
		s.Close()
	})
	return storePath
}

// BenchmarkOpenInbox100k: Open (unlock with the cheap bench KDF) + the first
// inbox page (50 conversations by last activity) + Close, at 100k messages.
func BenchmarkOpenInbox100k(b *testing.B) {
	path := bench100k(b)
	opts := benchOptions()
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		s, err := Open(path, testPIN, opts)
		if err != nil {
			b.Fatal(err)
		}
		convs, err := s.Conversations()
		if err != nil || len(convs) < 50 {
			b.Fatal(err)
		}
		_ = convs[:50]
		s.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/open+inbox")
}

// BenchmarkLatest50 reads the newest 50 messages of one conversation in a
// 100k-message store (warm: the store is open, as in the app).
func BenchmarkLatest50(b *testing.B) {
	path := bench100k(b)
	s, err := Open(path, testPIN, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	conv := benchMessage(7).ConversationID
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		ms, err := s.Latest(conv, 50)
		if err != nil || len(ms) != 50 {
			b.Fatal(len(ms), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/latest50")
	st, _ := os.Stat(path)
	b.ReportMetric(float64(st.Size())/benchMessages, "file_bytes/msg")
}

// BenchmarkLatest50FullTail is BenchmarkLatest50 at the worst point of the
// ordering tail: mergeEvery-1 messages not yet merged into cix, all of which
// the read scans. It works on a copy of the 100k store topped up with
// messages of other conversations.
func BenchmarkLatest50FullTail(b *testing.B) {
	src, err := os.ReadFile(bench100k(b))
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "tail.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := Open(path, testPIN, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var w uint64
	s.view(func(tx *bbolt.Tx) (e error) { w, e = s.mergedUpTo(tx); return e })
	next := benchMessages
	for uint64(next) < w+mergeEvery-1 {
		n := min(benchBatch, int(w+mergeEvery-1)-next)
		batch := make([]Message, 0, n)
		for j := next; j < next+n; j++ {
			m := benchMessage(j)
			m.ConversationID = fmt.Sprintf("other%03d@hospital.example", j%benchConvs)
			batch = append(batch, m)
		}
		if _, err := s.AppendMessages(batch); err != nil {
			b.Fatal(err)
		}
		next += n
	}
	tail := 0
	s.view(func(tx *bbolt.Tx) error { return s.tail(tx, nil, func([]byte) error { tail++; return nil }) })
	conv := benchMessage(7).ConversationID
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		ms, err := s.Latest(conv, 50)
		if err != nil || len(ms) != 50 {
			b.Fatal(len(ms), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/latest50")
	b.ReportMetric(float64(tail), "tail_entries")
}

// BenchmarkKDFDefault is the Argon2id cost this platform pays at unlock,
// excluded from BenchmarkOpenInbox100k.
func BenchmarkKDFDefault(b *testing.B) {
	salt := make([]byte, saltSize)
	for n := 0; n < b.N; n++ {
		deriveKEK([]byte("2468"), salt, DefaultKDF())
	}
}

// BenchmarkSealMessage is the per-message crypto+encoding cost.
func BenchmarkSealMessage(b *testing.B) {
	aead := newAEAD(make([]byte, keySize))
	m := benchMessage(1)
	var buf []byte
	key := binary.BigEndian.AppendUint64(nil, 1)
	for n := 0; n < b.N; n++ {
		buf = encodeMessage(buf[:0], &m)
		sealV2(nil, aead, 1, bucketMsg, key, buf)
	}
}

// BenchmarkDedupeBuild100k measures the lazy build of the in-memory dedupe
// map (one cursor scan of dix) at 100k messages / 200k ids: the first
// append, lookup or SetStanzaID after unlock pays it once. It reports the
// build time and the heap the map holds.
func BenchmarkDedupeBuild100k(b *testing.B) {
	path := bench100k(b)
	s, err := Open(path, testPIN, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m := benchMessage(123)
	var heap uint64
	var total time.Duration
	for n := 0; n < b.N; n++ {
		s.dedupe.reset()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		got, err := s.MessageByStanzaID(m.ConversationID, m.StanzaID)
		total += time.Since(start)
		if err != nil || got.Body != m.Body {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
	}
	entries := s.dedupe.len()
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/build")
	b.ReportMetric(float64(heap)/(1<<20), "MiB")
	b.ReportMetric(float64(heap)/float64(entries), "B/entry")
	b.ReportMetric(float64(entries), "entries")
}

// BenchmarkAuditAppend100k: one audit entry on the 100k-message store, as
// Audit does it (commit, then the free-page scrub that leaves no older head
// in the file: docs/STORE.md), against the same commit without the scrub,
// in the same run.
func BenchmarkAuditAppend100k(b *testing.B) {
	path := bench100k(b)
	s, err := Open(path, testPIN, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.Run("with-scrub", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			if err := s.Audit(AuditSignIn, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("commit-only", func(b *testing.B) {
		for n := 0; n < b.N; n++ {
			if err := s.update(func(tx *bbolt.Tx) error { return s.appendAudit(tx, AuditSignIn, "bench") }); err != nil {
				b.Fatal(err)
			}
			s.auditScrub.Store(false) // the next Audit scrubs; this one must not
		}
	})
}
