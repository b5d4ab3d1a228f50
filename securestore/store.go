// Package securestore is Rounds' encrypted local store: one bbolt file per
// account holding messages, conversations, contacts, credentials, outbox, sync
// cursors, attachment metadata, settings and a hash-chained audit log.
// Everything but a small unlock header is sealed with XChaCha20-Poly1305; index
// keys are HMACs of natural ids. Messages are sealed under per-period keys so
// retention can crypto-shred them. See docs/STORE.md for the on-disk format.
//
// A Store is safe for concurrent use by the sync engine and the UI.
package securestore

import (
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/hkdf"
)

// Options tune a store. The zero value is the production configuration.
type Options struct {
	// KDF sets the Argon2id parameters for Create and ChangePIN. Zero means
	// DefaultKDF() for this platform. Open always uses the file's parameters.
	KDF KDFParams
	// MaxWrongPINs is how many consecutive wrong PINs wipe the store. Default 10.
	MaxWrongPINs int
	// Period is the retention period length that message keys cover (Create
	// only; recorded sealed in the file). Default 24h, aligned to UTC days.
	Period time.Duration
	// Secrets is where keyring secrets live. Default OSKeySecrets (never
	// reachable on Android/iOS).
	Secrets KeySecrets
	// Now is the clock for audit entries and arrival times. Default time.Now.
	Now func() time.Time
	// Logger receives operational events; it never sees bodies, names or keys.
	Logger *slog.Logger
	// LockTimeout bounds the wait for the file lock (another process has the
	// store open). Default 1s; then ErrInUse.
	LockTimeout time.Duration
	// NoSync skips fsync on commit. Only for tests and the plain-vs-encrypted
	// benchmark's sanity runs; never in the app.
	NoSync bool
	// MaxInbox bounds the locked inbox file (bytes): past it, Inbox.Put
	// refuses with ErrInboxFull, so a flood while locked cannot fill the
	// disk. Default 64 MiB (some 60,000 short messages).
	MaxInbox int64
	// OnCommit, when set, receives the timing of every write transaction
	// that committed (CommitStats: durations and counts, no content). For
	// latency diagnosis (sync's BenchmarkSendLatency10k); nil in the app.
	// It runs on the writer's goroutine with the writer lock held: keep it
	// short.
	OnCommit func(CommitStats)
	// SentLinger is how long a sent mark (MarkSentSoon) waits for another
	// write transaction to ride before it is written alone. Default 100 ms.
	SentLinger time.Duration
}

// CommitStats is where one write transaction's time went (Options.OnCommit).
// Build + Spill + Write + the rest (file growth, freelist, publishing to
// memory) make Total - Wait.
type CommitStats struct {
	Start time.Time     // the caller asked to write
	Wait  time.Duration // for the previous writer (one writer at a time)
	Build time.Duration // the transaction's own work: encode, seal, puts, the tail merge
	Spill time.Duration // bbolt: nodes onto pages, page allocation and any remap
	Write time.Duration // bbolt: page writes and the two fdatasyncs
	Total time.Duration // Start to committed and published
	// Merged is how many ordering-tail entries this transaction moved into
	// cix (order.go), Merge how long that took (part of Build).
	Merged int
	Merge  time.Duration
	// Remapped: bbolt mapped the file anew (it grew past its mapping; the
	// remap waits for every open read transaction). Grew: the file grew
	// (truncate + fsync).
	Remapped bool
	Grew     bool
	Pages    int // pages bbolt allocated
}

func (o Options) withDefaults() Options {
	if o.KDF == (KDFParams{}) {
		o.KDF = DefaultKDF()
	}
	if o.MaxWrongPINs <= 0 {
		o.MaxWrongPINs = 10
	}
	if o.Period <= 0 {
		o.Period = 24 * time.Hour
	}
	if o.Secrets == nil {
		o.Secrets = OSKeySecrets{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxInbox <= 0 {
		o.MaxInbox = 64 << 20
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	if o.SentLinger <= 0 {
		o.SentLinger = 100 * time.Millisecond
	}
	return o
}

// Store is an unlocked store. Close locks it again.
type Store struct {
	// mu guards db (swapped by Purge's compaction, cleared by Close/Wipe).
	// Every operation holds it for reading; bbolt orders the transactions.
	mu sync.RWMutex
	// wmu serialises write transactions together with what they publish to
	// memory after commit (dedupe map, period keys), so the next writer
	// always sees the previous one's entries.
	wmu    sync.Mutex
	db     *bbolt.DB
	wiped  bool
	broken atomic.Pointer[error] // set once bbolt faulted or panicked
	dedupe dedupeIndex
	convs  convCache
	search atomic.Pointer[searchIndex] // built on the first Search (search.go)
	path   string
	opts   Options
	log    *slog.Logger
	id     []byte
	period int64 // seconds

	master   []byte
	dataKey  []byte
	data     cipher.AEAD
	indexKey []byte
	hmacs    sync.Pool

	keysMu     sync.Mutex
	periodKeys map[uint64]*periodKey

	// auditScrub: an audit append committed; its free pages (holding the
	// previous head) are still to be scrubbed (audit.go).
	auditScrub atomic.Bool

	// txMerge: what the running write transaction's tail merge did, for
	// CommitStats (written and read under the writer lock).
	txMerged int
	txMerge  time.Duration

	// Sent marks waiting for a write transaction (sentmarks.go).
	marksMu    sync.Mutex
	marks      []sentMark
	marksTimer *time.Timer
}

// Bucket names. Short, because they are part of every record's associated data.
var (
	bucketKeys     = []byte("keys") // period keys, sealed with the data key
	bucketMeta     = []byte("meta") // sealed singletons: period length, account, audit head
	bucketMsg      = []byte("msg")  // local id -> message (v2, period key)
	bucketConvIdx  = []byte("cix")  // HMAC(conv) | time | local id -> ""
	bucketDedupe   = []byte("dix")  // local id -> HMAC(conv, stanza-id/origin-id)[:16]...
	bucketConv     = []byte("conv") // HMAC(conv) -> conversation
	bucketOutbox   = []byte("out")  // sequence -> local id
	bucketCursor   = []byte("cur")  // HMAC(archive) -> cursor
	bucketAttach   = []byte("att")  // local id | HMAC(att id) -> attachment (v2)
	bucketAttachID = []byte("ati")  // HMAC(att id) -> att key
	bucketContact  = []byte("ctc")  // HMAC(jid) -> contact
	bucketSetting  = []byte("set")  // HMAC(name) -> value
	bucketAudit    = []byte("aud")  // sequence -> audit entry
	allBuckets     = [][]byte{bucketKeys, bucketMeta, bucketMsg, bucketConvIdx, bucketDedupe,
		bucketConv, bucketOutbox, bucketCursor, bucketAttach, bucketAttachID, bucketContact, bucketSetting, bucketAudit}
	metaPeriod  = []byte("period")
	metaAccount = []byte("account")
)

func boltOptions(o Options) *bbolt.Options {
	return &bbolt.Options{
		Timeout:      o.LockTimeout,
		FreelistType: bbolt.FreelistMapType,
		PageSize:     pageSize,
		NoSync:       o.NoSync,
	}
}

// pageSize is the bbolt page size of new files (an existing file keeps its
// own). 4 KiB matches the OS page on Linux, Windows and Android; with the
// append-friendly layout (docs/STORE.md) a batch dirties few pages, so the
// 1 KiB pages of format 1 (chosen against random index writes) only added
// tree depth.
const pageSize = 4096

// openBolt maps the file with a panic guard: bbolt can panic on a damaged file.
func openBolt(path string, o Options) (db *bbolt.DB, err error) {
	if err := preflight(path); err != nil {
		return nil, err
	}
	err = guard(func() error {
		var e error
		db, e = bbolt.Open(path, 0o600, boltOptions(o))
		return mapBoltErr(e)
	})
	return db, err
}

// errFault marks a guard error caused by a panic or memory fault inside bbolt
// (as opposed to an ordinary error returned by a transaction).
type errFault struct{ err error }

func (e *errFault) Error() string { return e.err.Error() }
func (e *errFault) Unwrap() error { return e.err }

// guard runs fn (a bbolt call) so that damage to the file cannot kill the
// process: a panic inside bbolt, or a memory fault when bbolt follows a
// damaged page table outside its mapping (turned into a panic by
// debug.SetPanicOnFault for this goroutine), becomes an error wrapping
// ErrCorrupt. The previous SetPanicOnFault setting is restored on return.
//
// bbolt runs transactions on the calling goroutine, so the setting covers
// everything inside fn. Not covered: a damaged page graph that makes bbolt
// loop or recurse without end (docs/STORE.md, "Bad input").
func guard(fn func() error) (err error) {
	prev := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(prev)
		if r := recover(); r != nil {
			err = &errFault{corruptf("storage engine failed on a damaged page: %v", r)}
		}
	}()
	return fn()
}

// Create makes a new store at path, locked by pin. It fails with ErrExists if
// the file exists.
func Create(path string, pin []byte, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if len(pin) == 0 {
		return nil, fmt.Errorf("%w: empty PIN", ErrInvalid)
	}
	if err := opts.KDF.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if _, err := os.Stat(path); err == nil {
		return nil, ErrExists
	}
	// O_EXCL so two racing Creates cannot both win.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, ErrExists
		}
		return nil, err
	}
	f.Close()
	db, err := bbolt.Open(path, 0o600, boltOptions(opts))
	if err != nil {
		os.Remove(path)
		return nil, mapBoltErr(err)
	}
	master := randomBytes(keySize)
	h := &header{version: formatVersion, kdf: opts.KDF, salt: randomBytes(saltSize), id: randomBytes(storeIDSize)}
	kek := deriveKEK(pin, h.salt, h.kdf)
	h.pinSlot = wrapKey(kek, master, slotAD("pin", h))
	zero(kek)
	s := newStore(db, path, opts, h, master)
	s.period = int64(opts.Period / time.Second)
	if s.period <= 0 {
		s.period = 1
	}
	err = s.update(func(tx *bbolt.Tx) error {
		if err := writeHeader(tx, h); err != nil {
			return err
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		p := binary.AppendUvarint(nil, uint64(s.period))
		if err := tx.Bucket(bucketMeta).Put(metaPeriod, sealV1(nil, s.data, bucketMeta, metaPeriod, p)); err != nil {
			return err
		}
		return s.appendAudit(tx, AuditCreated, "")
	})
	if err != nil {
		s.closeLocked()
		os.Remove(path)
		return nil, err
	}
	s.log.Info("securestore: created", "store", h.idHex()[:8])
	return s, nil
}

func newStore(db *bbolt.DB, path string, opts Options, h *header, master []byte) *Store {
	s := &Store{db: db, path: path, opts: opts, log: opts.Logger, id: h.id, master: master,
		periodKeys: map[uint64]*periodKey{}}
	s.dataKey = deriveSubkey(master, h.id, "rounds/data/v1")
	s.indexKey = deriveSubkey(master, h.id, "rounds/index/v1")
	s.data = newAEAD(s.dataKey)
	return s
}

// deriveSubkey separates the master key's uses (record sealing, index HMACs)
// with HKDF-SHA256, salted with the store id.
func deriveSubkey(master, id []byte, info string) []byte {
	k := make([]byte, keySize)
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, id, []byte(info)), k); err != nil {
		panic("securestore: hkdf: " + err.Error())
	}
	return k
}

// Open unlocks the store at path with pin. A wrong PIN returns a
// *WrongPINError (errors.Is ErrWrongPIN) and counts towards the wipe limit;
// reaching the limit wipes the store and returns ErrWiped.
func Open(path string, pin []byte, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	return open(path, opts, func(h *header) ([]byte, error) {
		kek := deriveKEK(pin, h.salt, h.kdf)
		defer zero(kek)
		mk, ok := unwrapKey(kek, h.pinSlot, slotAD("pin", h))
		if !ok {
			return nil, ErrWrongPIN
		}
		return mk, nil
	})
}

// OpenWithKeyring unlocks the store with the secret kept in the OS keyring
// (see EnableKeyring). It does not touch the wrong-PIN counter.
func OpenWithKeyring(path string, secrets KeySecrets, opts Options) (*Store, error) {
	if secrets != nil {
		opts.Secrets = secrets
	}
	opts = opts.withDefaults()
	return open(path, opts, func(h *header) ([]byte, error) {
		if h.keyringSlot == nil {
			return nil, ErrNoKeyringSlot
		}
		secret, err := opts.Secrets.Get(h.idHex())
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: no secret filed for this store", ErrKeyringUnavailable)
		}
		if err != nil {
			return nil, err
		}
		defer zero(secret)
		mk, ok := unwrapKey(secret, h.keyringSlot, slotAD("keyring", h))
		if !ok {
			return nil, corruptf("keyring secret does not open this store")
		}
		return mk, nil
	})
}

func open(path string, opts Options, unlock func(*header) ([]byte, error)) (*Store, error) {
	os.Remove(path + compactSuffix) // a compaction interrupted by a crash
	db, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	var h *header
	if err := guard(func() error {
		return db.View(func(tx *bbolt.Tx) (e error) { h, e = readHeader(tx); return e })
	}); err != nil {
		db.Close()
		return nil, err
	}
	master, err := unlock(h)
	if errors.Is(err, ErrWrongPIN) {
		return nil, wrongPIN(db, path, h, opts)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	s := newStore(db, path, opts, h, master)
	failed := h.wrongPINs
	err = s.update(func(tx *bbolt.Tx) error {
		p, err := s.getV1(tx, bucketMeta, metaPeriod)
		if err != nil {
			return err
		}
		v, n := binary.Uvarint(p)
		if n <= 0 || v == 0 || v > 1<<40 {
			return corruptf("bad retention period")
		}
		s.period = int64(v)
		if failed > 0 {
			h.wrongPINs = 0
			if err := writeHeader(tx, h); err != nil {
				return err
			}
			return s.appendAudit(tx, AuditUnlockFailed, fmt.Sprintf("%d failed attempts before this unlock", failed))
		}
		return nil
	})
	if err != nil {
		s.closeLocked()
		return nil, err
	}
	s.scrubAuditHistory()
	s.sweepBlobs(true) // vault files of crashed writes or purged periods
	return s, nil
}

// wrongPIN records a failed unlock in the header and wipes the store when the
// limit is reached. The counter is a deterrent against guessing at the device;
// it is not protection against someone with a copy of the file (docs/STORE.md).
func wrongPIN(db *bbolt.DB, path string, h *header, opts Options) error {
	h.wrongPINs++
	err := guard(func() error { return db.Update(func(tx *bbolt.Tx) error { return writeHeader(tx, h) }) })
	remaining := opts.MaxWrongPINs - int(h.wrongPINs)
	opts.Logger.Warn("securestore: wrong PIN", "attempts_left", max(remaining, 0))
	if err != nil || remaining > 0 {
		db.Close()
		if err != nil {
			return err
		}
		return &WrongPINError{Remaining: remaining}
	}
	db.Close()
	if err := destroy(path, h, opts); err != nil {
		return fmt.Errorf("%w (incomplete: %v)", ErrWiped, err)
	}
	opts.Logger.Warn("securestore: wrong-PIN limit reached, store wiped")
	return ErrWiped
}

// destroy overwrites the whole file (header, key slots, period keys, records)
// with zeros, syncs, removes it, and deletes the keyring secret. On flash
// storage the overwrite may land on new blocks; see docs/STORE.md.
func destroy(path string, h *header, opts Options) error {
	var errs []error
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		if st, err := f.Stat(); err == nil {
			buf := make([]byte, 1<<20)
			for off := int64(0); off < st.Size(); off += int64(len(buf)) {
				n := min(int64(len(buf)), st.Size()-off)
				if _, err := f.WriteAt(buf[:n], off); err != nil {
					errs = append(errs, err)
					break
				}
			}
		}
		errs = append(errs, f.Sync(), f.Close())
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	errs = append(errs, removeVault(path), removeInbox(path), RemoveListenTicket(path, opts.Secrets))
	syncDir(path)
	if h != nil && h.keyringSlot != nil {
		errs = append(errs, opts.Secrets.Delete(h.idHex()))
		// The audit anchor is no secret; a keyring that cannot delete it
		// does not make the wipe incomplete.
		if err := opts.Secrets.Delete(h.idHex() + auditAnchorSuffix); err != nil {
			opts.Logger.Warn("securestore: audit anchor left in the keyring", "err", err)
		}
	}
	return errors.Join(errs...)
}

// Close locks the store: the file is closed and key material zeroed.
func (s *Store) Close() error {
	_ = s.FlushSent() // what fails stays on the Outbox
	for _, mk := range s.takeMarks() {
		if mk.done != nil {
			mk.done(false, ErrLocked)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeLocked()
}

func (s *Store) closeLocked() error {
	var err error
	if s.db != nil {
		db := s.db
		err = guard(db.Close)
		s.db = nil
	}
	s.dedupe.reset()
	s.convs.reset()
	s.dropSearch()
	zero(s.master)
	zero(s.dataKey)
	zero(s.indexKey)
	s.keysMu.Lock()
	for p, k := range s.periodKeys {
		zero(k.key)
		delete(s.periodKeys, p)
	}
	s.keysMu.Unlock()
	s.data = nil
	return err
}

// Wipe destroys the store: the file is overwritten and removed, the keyring
// secret deleted, and key material zeroed. Used for remote wipe and sign-out.
func (s *Store) Wipe() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return s.lockedErr()
	}
	var h *header
	if err := s.viewLocked(func(tx *bbolt.Tx) (e error) { h, e = readHeader(tx); return e }); err != nil || h == nil {
		// Damaged or broken store: still destroy it, and delete any keyring
		// secret filed under its id (deleting a missing one is not an error).
		h = &header{id: clone(s.id), keyringSlot: []byte{}}
	}
	s.closeLocked()
	s.wiped = true
	s.log.Warn("securestore: wiped")
	return destroy(s.path, h, s.opts)
}

func (s *Store) lockedErr() error {
	if s.wiped {
		return ErrWiped
	}
	return ErrLocked
}

// view and update run a transaction under the read lock with the panic guard.
func (s *Store) view(fn func(*bbolt.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.viewLocked(fn)
}

func (s *Store) viewLocked(fn func(*bbolt.Tx) error) error {
	if s.db == nil {
		return s.lockedErr()
	}
	if err := s.brokenErr(); err != nil {
		return err
	}
	return s.checkFault(guard(func() error { return s.db.View(fn) }))
}

func (s *Store) update(fn func(*bbolt.Tx) error) error {
	return s.updateThen(fn, nil)
}

// updateThen runs a write transaction and, only if it committed, committed()
// (publishing in-memory state such as dedupe entries), both under wmu so the
// next write transaction sees what this one published.
//
// The sent marks waiting (MarkSentSoon) ride along: they are written in the
// same transaction before fn, and reported after the locks are released.
//
// The marks are taken inside the transaction, under the writer lock, so
// that FlushSent, which waits for that lock, also waits for a write that
// has taken marks and not committed them yet.
func (s *Store) updateThen(fn func(*bbolt.Tx) error, committed func()) error {
	var marks []sentMark
	var results []markResult
	pending := map[uint64]*periodKey{}
	began := false
	err := s.updateThenLocked(func(tx *bbolt.Tx) error {
		began = true
		marks, results = s.takeMarks(), nil
		return s.withMarks(fn, marks, pending, &results)(tx)
	}, func() {
		s.publishKeys(pending)
		if committed != nil {
			committed()
		}
	})
	if !began && err != nil {
		// Refused before it began (locked, wiped, broken): the waiting
		// marks fail with it, their messages left on the Outbox.
		marks = s.takeMarks()
	}
	return s.settleMarks(marks, results, err)
}

func (s *Store) updateThenLocked(fn func(*bbolt.Tx) error, committed func()) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.opts.OnCommit != nil {
		return s.updateTraced(fn, committed)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.updateLocked(fn); err != nil {
		return err
	}
	if committed != nil {
		committed()
	}
	return nil
}

// updateTraced is updateThen with Options.OnCommit: the same transaction,
// timed. bbolt's cumulative statistics change only by this transaction's
// spill and write while it holds the writer lock.
func (s *Store) updateTraced(fn func(*bbolt.Tx) error, committed func()) error {
	cs := CommitStats{Start: time.Now()}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	cs.Wait = time.Since(cs.Start)
	s.txMerged, s.txMerge = 0, 0
	var before bbolt.Stats
	var data uintptr
	var size int64
	if s.db != nil {
		before, data = s.db.Stats(), s.db.Info().Data
		if fi, err := os.Stat(s.path); err == nil {
			size = fi.Size()
		}
	}
	err := s.updateLocked(func(tx *bbolt.Tx) error {
		t := time.Now()
		defer func() { cs.Build = time.Since(t) }()
		return fn(tx)
	})
	if err != nil {
		return err
	}
	if committed != nil {
		committed()
	}
	after := s.db.Stats()
	d := after.TxStats.Sub(&before.TxStats)
	cs.Spill, cs.Write, cs.Pages = d.GetSpillTime(), d.GetWriteTime(), int(d.GetPageCount())
	cs.Remapped = s.db.Info().Data != data
	if fi, err := os.Stat(s.path); err == nil {
		cs.Grew = fi.Size() > size
	}
	cs.Merged, cs.Merge = s.txMerged, s.txMerge
	cs.Total = time.Since(cs.Start)
	s.opts.OnCommit(cs)
	return nil
}

// updateLocked runs a write transaction; callers hold s.mu (read or write).
func (s *Store) updateLocked(fn func(*bbolt.Tx) error) error {
	if s.db == nil {
		return s.lockedErr()
	}
	if err := s.brokenErr(); err != nil {
		return err
	}
	return s.checkFault(guard(func() error { return s.db.Update(fn) }))
}

// checkFault marks the store broken when bbolt panicked or faulted: its
// in-memory state (and the file) can no longer be trusted, so every later
// call returns ErrCorrupt. Close and Wipe still work.
func (s *Store) checkFault(err error) error {
	var f *errFault
	if errors.As(err, &f) {
		e := f.err
		if s.broken.CompareAndSwap(nil, &e) {
			s.log.Error("securestore: storage engine fault; store marked broken")
		}
		return f.err
	}
	return err
}

func (s *Store) brokenErr() error {
	if p := s.broken.Load(); p != nil {
		return fmt.Errorf("%w (store marked broken after an earlier fault)", ErrCorrupt)
	}
	return nil
}

// getV1 reads and opens a v1 record.
func (s *Store) getV1(tx *bbolt.Tx, bucket, key []byte) ([]byte, error) {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil, corruptf("missing bucket %q", bucket)
	}
	v := b.Get(key)
	if v == nil {
		return nil, ErrNotFound
	}
	return s.openV1(bucket, key, v)
}

func (s *Store) openV1(bucket, key, v []byte) ([]byte, error) {
	env, err := decodeEnvelope(v)
	if err != nil {
		return nil, err
	}
	if env.version != recordV1 {
		return nil, corruptf("record in %q has wrong envelope", bucket)
	}
	return openEnvelope(s.data, env, bucket, key)
}

func (s *Store) putV1(tx *bbolt.Tx, bucket, key, plaintext []byte) error {
	b := tx.Bucket(bucket)
	if b == nil {
		return corruptf("missing bucket %q", bucket)
	}
	return b.Put(key, sealV1(nil, s.data, bucket, key, plaintext))
}

// mac computes an index key: HMAC-SHA256(indexKey, tag | parts joined by 0),
// truncated to 16 bytes (collisions are out of reach at 2^64 records).
func (s *Store) mac(tag byte, parts ...string) []byte {
	h, _ := s.hmacs.Get().(hash.Hash)
	if h == nil {
		h = newHMAC(s.indexKey)
	} else {
		h.Reset()
	}
	var buf [128]byte
	b := append(buf[:0], tag)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	h.Write(b)
	sum := h.Sum(buf[:0])
	s.hmacs.Put(h)
	return append(make([]byte, 0, macSize+16), sum[:macSize]...)
}

const macSize = 16

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }
