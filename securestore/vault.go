package securestore

import (
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/chacha20poly1305"
)

// The vault keeps attachment files (downloaded or sent) encrypted on disk.
//
// Files live in a sibling directory of the store file (<store>.vault/), not in
// bbolt: a 100 MB scan inside bbolt would grow the file by that much, stay in
// its free pages after deletion, and make every Purge compaction copy it. The
// directory holds only opaque random names; nothing about a file (its name,
// type, message, conversation) is visible there.
//
// Each file has its own random key. That key is kept in a record sealed
// under the retention period key of the attachment's message, so Purge
// crypto-shreds the file together with its message even before the file is
// unlinked. The file is a header, then 64 KiB chunks each sealed with
// XChaCha20-Poly1305; the chunk index and a final flag are in the associated
// data, so chunks cannot be reordered, dropped, or the file truncated at a
// chunk boundary without detection.
//
// A file being written has a ".part" name and no record. Commit fsyncs it,
// renames it and writes the record in one transaction; Abort, a failed
// commit, or a crash leave only an orphan that the next Open (or Purge)
// removes. Nothing half-written ever becomes visible.

const (
	vaultSuffix   = ".vault"
	partSuffix    = ".part"
	blobChunk     = 64 << 10
	blobMagic     = "RVB1"
	blobPrefixLen = 16
	blobHeaderLen = len(blobMagic) + blobPrefixLen
	blobNameLen   = 32 // hex of 16 random bytes
	// blobSyncEvery: a writer flushes what it wrote so far to disk in the
	// background every so often, so Commit's fsync has little left to do
	// (a 50 MB file synced only at the end can stall Commit for seconds
	// on a busy disk, after the network transfer already finished).
	blobSyncEvery = 4 << 20
)

// bucketBlob maps an attachment's record key to its vault file record (v2,
// sealed under the message's period): name, file key, plaintext size.
var bucketBlob = []byte("blb")

var errBlobClosed = errors.New("securestore: blob writer already committed or aborted")

func (s *Store) vaultDir() string { return s.path + vaultSuffix }

func removeVault(storePath string) error {
	err := os.RemoveAll(storePath + vaultSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

type blobRecord struct {
	name string
	key  []byte
	size int64
}

func encodeBlob(b *blobRecord) []byte {
	w := writer{}
	w.u8(payloadV1)
	w.str(b.name)
	w.bytes(b.key)
	w.varint(b.size)
	return w.b
}

func decodeBlob(v []byte) (blobRecord, error) {
	r := reader{b: v}
	ver := r.u8()
	if ver != payloadV1 {
		return blobRecord{}, payloadErr("blob", &reader{err: errShort}, ver)
	}
	var b blobRecord
	b.name = r.str()
	b.key = r.bytes()
	b.size = r.varint()
	if err := payloadErr("blob", &r, ver); err != nil {
		return blobRecord{}, err
	}
	if len(b.name) != blobNameLen || len(b.key) != keySize || b.size < 0 {
		return blobRecord{}, corruptf("blob record malformed")
	}
	return b, nil
}

// BlobWriter receives a file's plaintext and writes it encrypted to a pending
// vault file. It is not safe for concurrent use.
type BlobWriter struct {
	s            *Store
	attachmentID string
	name         string
	key          []byte
	aead         cipher.AEAD
	prefix       [blobPrefixLen]byte
	f            *os.File
	buf          []byte
	sealed       []byte
	index        uint64
	size         int64
	done         bool
	err          error
	unsynced     int64
	syncSlot     chan struct{} // held while a background fsync runs
	syncErr      atomic.Pointer[error]
}

// CreateBlob starts a vault file for the attachment with this id. The
// attachment record (PutAttachment) must exist by the time Commit is called,
// not before, so a download or upload can stream first and record after.
func (s *Store) CreateBlob(attachmentID string) (*BlobWriter, error) {
	if attachmentID == "" {
		return nil, fmt.Errorf("%w: blob without attachment id", ErrInvalid)
	}
	s.mu.RLock()
	open := s.db != nil
	s.mu.RUnlock()
	if !open {
		return nil, s.lockedErr()
	}
	if err := os.MkdirAll(s.vaultDir(), 0o700); err != nil {
		return nil, err
	}
	w := &BlobWriter{s: s, attachmentID: attachmentID, name: hex.EncodeToString(randomBytes(16)), key: randomBytes(keySize)}
	w.aead = newAEAD(w.key)
	copy(w.prefix[:], randomBytes(blobPrefixLen))
	f, err := os.OpenFile(filepath.Join(s.vaultDir(), w.name+partSuffix), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	w.f = f
	w.syncSlot = make(chan struct{}, 1)
	w.buf = make([]byte, 0, blobChunk)
	w.sealed = make([]byte, 0, blobChunk+tagSize)
	if _, err := f.Write(append([]byte(blobMagic), w.prefix[:]...)); err != nil {
		w.Abort()
		return nil, err
	}
	return w, nil
}

func blobAD(dst []byte, name string, index uint64, final bool) []byte {
	dst = append(dst, name...)
	dst = binary.BigEndian.AppendUint64(dst, index)
	if final {
		return append(dst, 1)
	}
	return append(dst, 0)
}

func blobNonce(prefix [blobPrefixLen]byte, index uint64) []byte {
	n := make([]byte, 0, chacha20poly1305.NonceSizeX)
	n = append(n, prefix[:]...)
	return binary.BigEndian.AppendUint64(n, index)
}

// Write encrypts and writes full chunks; the last (possibly short) chunk is
// held until Commit, where it is sealed with the final flag.
func (w *BlobWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.done {
		return 0, errBlobClosed
	}
	n := len(p)
	for len(p) > 0 {
		if len(w.buf) == blobChunk {
			if err := w.flush(false); err != nil {
				w.err = err
				return 0, err
			}
		}
		k := copy(w.buf[len(w.buf):blobChunk], p)
		w.buf = w.buf[:len(w.buf)+k]
		p = p[k:]
	}
	w.size += int64(n)
	return n, nil
}

func (w *BlobWriter) flush(final bool) error {
	var ad [blobNameLen + 9]byte
	w.sealed = w.aead.Seal(w.sealed[:0], blobNonce(w.prefix, w.index), w.buf, blobAD(ad[:0], w.name, w.index, final))
	clear(w.buf)
	w.buf = w.buf[:0]
	w.index++
	if _, err := w.f.Write(w.sealed); err != nil {
		return err
	}
	w.unsynced += int64(len(w.sealed))
	if w.unsynced >= blobSyncEvery {
		select {
		case w.syncSlot <- struct{}{}:
			w.unsynced = 0
			go func(f *os.File) {
				if err := f.Sync(); err != nil {
					w.syncErr.Store(&err)
				}
				<-w.syncSlot
			}(w.f)
		default: // one is running; the next flush tries again
		}
	}
	return nil
}

// waitSync waits for a background fsync to finish and returns its error.
func (w *BlobWriter) waitSync() error {
	w.syncSlot <- struct{}{}
	<-w.syncSlot
	if p := w.syncErr.Load(); p != nil {
		return *p
	}
	return nil
}

// Size is the plaintext length written so far.
func (w *BlobWriter) Size() int64 { return w.size }

// Abort discards the pending file. It is safe to call after Commit (no-op)
// and more than once, so `defer w.Abort()` is the usual pattern.
func (w *BlobWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	clear(w.buf)
	zero(w.key)
	if w.f != nil {
		w.waitSync()
		w.f.Close()
	}
	err := os.Remove(filepath.Join(w.s.vaultDir(), w.name+partSuffix))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// Commit seals the last chunk, makes the file durable and records it for the
// attachment in one transaction. A previous file of the same attachment is
// replaced. On any error the pending file is removed.
func (w *BlobWriter) Commit() (err error) {
	if w.done {
		return errBlobClosed
	}
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	if w.err != nil {
		return w.err
	}
	if err := w.flush(true); err != nil {
		return err
	}
	if err := w.waitSync(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	w.f = nil
	s := w.s
	part := filepath.Join(s.vaultDir(), w.name+partSuffix)
	final := filepath.Join(s.vaultDir(), w.name)
	var old string
	var pending map[uint64]*periodKey
	renamed := false
	err = s.update(func(tx *bbolt.Tx) error {
		pending = map[uint64]*periodKey{}
		old = ""
		attKey, period, err := s.attachmentKey(tx, w.attachmentID)
		if err != nil {
			return err
		}
		aead, err := s.periodAEAD(tx, period, pending)
		if err != nil {
			return err
		}
		bk, err := tx.CreateBucketIfNotExists(bucketBlob)
		if err != nil {
			return err
		}
		if v := bk.Get(attKey); v != nil {
			if prev, err := s.openBlobRecord(tx, attKey, v, pending); err == nil {
				old = prev.name
			}
		}
		rec := blobRecord{name: w.name, key: w.key, size: w.size}
		if err := bk.Put(attKey, sealV2(nil, aead, period, bucketBlob, attKey, encodeBlob(&rec))); err != nil {
			return err
		}
		if !renamed {
			if err := os.Rename(part, final); err != nil {
				return err
			}
			renamed = true
		}
		return nil
	})
	if err != nil {
		if renamed {
			os.Remove(final)
		}
		return err
	}
	syncDir(final)
	s.publishKeys(pending)
	w.done = true
	zero(w.key)
	if old != "" && old != w.name {
		os.Remove(filepath.Join(s.vaultDir(), old))
	}
	return nil
}

// attachmentKey finds an attachment's record key and its retention period.
func (s *Store) attachmentKey(tx *bbolt.Tx, id string) ([]byte, uint64, error) {
	key := tx.Bucket(bucketAttachID).Get(s.mac(tagAttach, id))
	if key == nil {
		return nil, 0, fmt.Errorf("%w: attachment", ErrNotFound)
	}
	v := tx.Bucket(bucketAttach).Get(key)
	if v == nil {
		return nil, 0, fmt.Errorf("%w: attachment", ErrNotFound)
	}
	env, err := decodeEnvelope(v)
	if err != nil {
		return nil, 0, err
	}
	return clone(key), env.period, nil
}

func (s *Store) openBlobRecord(tx *bbolt.Tx, key, v []byte, pending map[uint64]*periodKey) (blobRecord, error) {
	env, err := decodeEnvelope(v)
	if err != nil {
		return blobRecord{}, err
	}
	if env.version != recordV2 {
		return blobRecord{}, corruptf("blob record has wrong envelope")
	}
	aead, err := s.periodAEAD(tx, env.period, pending)
	if err != nil {
		return blobRecord{}, err
	}
	pt, err := openEnvelope(aead, env, bucketBlob, key)
	if err != nil {
		return blobRecord{}, err
	}
	return decodeBlob(pt)
}

func (s *Store) blobRecordOf(id string) (blobRecord, error) {
	var rec blobRecord
	err := s.view(func(tx *bbolt.Tx) error {
		attKey, _, err := s.attachmentKey(tx, id)
		if err != nil {
			return err
		}
		bk := tx.Bucket(bucketBlob)
		if bk == nil {
			return fmt.Errorf("%w: no vault file for this attachment", ErrNotFound)
		}
		v := bk.Get(attKey)
		if v == nil {
			return fmt.Errorf("%w: no vault file for this attachment", ErrNotFound)
		}
		rec, err = s.openBlobRecord(tx, attKey, v, nil)
		return err
	})
	return rec, err
}

// BlobSize is the plaintext size of an attachment's vault file; ErrNotFound
// when it has none (not downloaded yet, or deleted).
func (s *Store) BlobSize(attachmentID string) (int64, error) {
	rec, err := s.blobRecordOf(attachmentID)
	return rec.size, err
}

// BlobReader reads a vault file's plaintext, one authenticated chunk at a
// time; a chunk that fails authentication is an ErrCorrupt error, never
// garbage. Only one 64 KiB chunk is in memory at a time.
type BlobReader struct {
	f       *os.File
	name    string
	aead    cipher.AEAD
	prefix  [blobPrefixLen]byte
	size    int64
	nchunks uint64
	pos     int64
	chunk   []byte // plaintext of chunk cur
	cur     uint64
	have    bool
	sealed  []byte
}

// OpenBlob opens an attachment's vault file for reading.
func (s *Store) OpenBlob(attachmentID string) (*BlobReader, error) {
	rec, err := s.blobRecordOf(attachmentID)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.vaultDir(), rec.name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, corruptf("vault file missing")
	}
	if err != nil {
		return nil, err
	}
	r := &BlobReader{f: f, name: rec.name, aead: newAEAD(rec.key), size: rec.size}
	zero(rec.key)
	fail := func(err error) (*BlobReader, error) { f.Close(); return nil, err }
	hdr := make([]byte, blobHeaderLen)
	if _, err := io.ReadFull(f, hdr); err != nil || string(hdr[:len(blobMagic)]) != blobMagic {
		return fail(corruptf("vault file header"))
	}
	copy(r.prefix[:], hdr[len(blobMagic):])
	st, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	body := st.Size() - int64(blobHeaderLen)
	n := (body + blobChunk + tagSize - 1) / (blobChunk + tagSize)
	if n < 1 || body-n*tagSize != rec.size {
		return fail(corruptf("vault file length does not match its record"))
	}
	r.nchunks = uint64(n)
	return r, nil
}

// Size is the plaintext length.
func (r *BlobReader) Size() int64 { return r.size }

func (r *BlobReader) load(i uint64) error {
	if r.have && r.cur == i {
		return nil
	}
	off := int64(blobHeaderLen) + int64(i)*(blobChunk+tagSize)
	ln := int64(blobChunk + tagSize)
	final := i == r.nchunks-1
	if final {
		ln = r.size - int64(i)*blobChunk + tagSize
	}
	if cap(r.sealed) < int(ln) {
		r.sealed = make([]byte, blobChunk+tagSize)
	}
	buf := r.sealed[:ln]
	if _, err := r.f.ReadAt(buf, off); err != nil {
		return corruptf("vault file short: %v", err)
	}
	var ad [blobNameLen + 9]byte
	pt, err := r.aead.Open(r.chunk[:0], blobNonce(r.prefix, i), buf, blobAD(ad[:0], r.name, i, final))
	if err != nil {
		r.have = false
		return corruptf("vault chunk %d failed authentication", i)
	}
	r.chunk, r.cur, r.have = pt, i, true
	return nil
}

func (r *BlobReader) Read(p []byte) (int, error) {
	if r.f == nil {
		return 0, os.ErrClosed
	}
	if r.pos >= r.size {
		return 0, io.EOF
	}
	i := uint64(r.pos / blobChunk)
	if err := r.load(i); err != nil {
		return 0, err
	}
	n := copy(p, r.chunk[r.pos-int64(i)*blobChunk:])
	r.pos += int64(n)
	return n, nil
}

func (r *BlobReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, errors.New("securestore: blob seek: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("securestore: blob seek before start")
	}
	r.pos = abs
	return abs, nil
}

// Close closes the file and drops the plaintext chunk.
func (r *BlobReader) Close() error {
	clear(r.chunk)
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// DeleteBlob forgets an attachment's vault file (the record, then the file).
// The attachment metadata stays; a later download can fill it again.
func (s *Store) DeleteBlob(attachmentID string) error {
	var name string
	err := s.update(func(tx *bbolt.Tx) error {
		name = ""
		attKey, _, err := s.attachmentKey(tx, attachmentID)
		if err != nil {
			return err
		}
		bk := tx.Bucket(bucketBlob)
		if bk == nil || bk.Get(attKey) == nil {
			return fmt.Errorf("%w: no vault file for this attachment", ErrNotFound)
		}
		if rec, err := s.openBlobRecord(tx, attKey, bk.Get(attKey), nil); err == nil {
			name = rec.name
		}
		return bk.Delete(attKey)
	})
	if err != nil {
		return err
	}
	if name != "" {
		os.Remove(filepath.Join(s.vaultDir(), name))
		syncDir(filepath.Join(s.vaultDir(), name))
	}
	return nil
}

// purgeBlobs deletes, inside Purge's transaction, the vault records sealed
// under purged periods. Their files become orphans that sweepBlobs unlinks
// after the commit; without the period key they are unreadable already.
func purgeBlobs(tx *bbolt.Tx, purged map[uint64]bool) (int, error) {
	bk := tx.Bucket(bucketBlob)
	if bk == nil {
		return 0, nil
	}
	var del [][]byte
	c := bk.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		env, err := decodeEnvelope(v)
		if err != nil {
			return 0, err
		}
		if purged[env.period] {
			del = append(del, clone(k))
		}
	}
	for _, k := range del {
		if err := bk.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(del), nil
}

// sweepBlobs unlinks vault files that no record names: files of purged or
// deleted attachments, commits that failed or crashed half-way. With
// withParts, pending ".part" files go too (only at open, when no writer can
// be running).
func (s *Store) sweepBlobs(withParts bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.sweepBlobsLocked(withParts)
}

// sweepBlobsLocked is sweepBlobs for callers holding s.mu (Purge).
func (s *Store) sweepBlobsLocked(withParts bool) {
	entries, err := os.ReadDir(s.vaultDir())
	if err != nil {
		return
	}
	live := map[string]bool{}
	err = s.viewLocked(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(bucketBlob)
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, v []byte) error {
			rec, err := s.openBlobRecord(tx, k, v, nil)
			if err != nil {
				return err
			}
			live[rec.name] = true
			return nil
		})
	})
	if err != nil {
		// Never delete files when the records cannot all be read.
		s.log.Warn("securestore: vault sweep skipped", "err", err)
		return
	}
	removed := 0
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, partSuffix) {
			if !withParts {
				continue
			}
		} else if live[n] {
			continue
		}
		if os.Remove(filepath.Join(s.vaultDir(), n)) == nil {
			removed++
		}
	}
	if removed > 0 {
		syncDir(filepath.Join(s.vaultDir(), "x"))
		s.log.Info("securestore: vault swept", "files", removed)
	}
}

// vaultFiles lists the names in the vault directory (tests).
func (s *Store) vaultFiles() []string {
	entries, _ := os.ReadDir(s.vaultDir())
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
