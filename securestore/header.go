package securestore

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// formatVersion is the on-disk format this build writes and reads. A file with
// a higher version is refused with ErrNewerVersion, one with a lower version
// with ErrOldVersion (format 1 was never released; it is not migrated).
//
//	1: per-id HMAC dedupe buckets (sid, oid), 1 KiB pages
//	2: append-only dedupe bucket (dix) keyed by local id, 4 KiB pages
const formatVersion = 2

// The header lives in the clear "hdr" bucket because it is needed before the
// master key is known. It holds only what unlocking needs: no names, no JIDs.
var (
	bucketHeader   = []byte("hdr")
	hdrVersion     = []byte("version")
	hdrKDF         = []byte("kdf")
	hdrSalt        = []byte("salt")
	hdrID          = []byte("id")
	hdrPINSlot     = []byte("slot.pin")
	hdrKeyringSlot = []byte("slot.keyring")
	hdrWrongPINs   = []byte("wrong")
)

const (
	saltSize    = 16
	storeIDSize = 16
	slotSize    = nonceSize + keySize + tagSize
)

type header struct {
	version     uint32
	kdf         KDFParams
	salt        []byte
	id          []byte
	pinSlot     []byte
	keyringSlot []byte // nil when keyring unlock is not enabled
	wrongPINs   uint32
}

func (h *header) idHex() string { return hex.EncodeToString(h.id) }

func encodeKDF(p KDFParams) []byte {
	b := make([]byte, 9)
	binary.BigEndian.PutUint32(b[0:4], p.Time)
	binary.BigEndian.PutUint32(b[4:8], p.Memory)
	b[8] = p.Threads
	return b
}

func readHeader(tx *bbolt.Tx) (*header, error) {
	b := tx.Bucket(bucketHeader)
	if b == nil {
		return nil, fmt.Errorf("%w: no header bucket", ErrNotAStore)
	}
	v := b.Get(hdrVersion)
	if len(v) != 4 {
		return nil, fmt.Errorf("%w: no format version", ErrNotAStore)
	}
	h := &header{version: binary.BigEndian.Uint32(v)}
	if h.version > formatVersion {
		return nil, fmt.Errorf("%w: file version %d, this build reads up to %d", ErrNewerVersion, h.version, formatVersion)
	}
	if h.version == 0 {
		return nil, corruptf("header version 0")
	}
	if h.version < formatVersion {
		return nil, fmt.Errorf("%w: file version %d, this build reads version %d only (pre-release format, no migration)", ErrOldVersion, h.version, formatVersion)
	}
	k := b.Get(hdrKDF)
	if len(k) != 9 {
		return nil, corruptf("header: bad kdf field")
	}
	h.kdf = KDFParams{Time: binary.BigEndian.Uint32(k[0:4]), Memory: binary.BigEndian.Uint32(k[4:8]), Threads: k[8]}
	if err := h.kdf.validate(); err != nil {
		return nil, corruptf("header: %v", err)
	}
	h.salt = clone(b.Get(hdrSalt))
	h.id = clone(b.Get(hdrID))
	h.pinSlot = clone(b.Get(hdrPINSlot))
	h.keyringSlot = clone(b.Get(hdrKeyringSlot))
	if len(h.salt) != saltSize || len(h.id) != storeIDSize || len(h.pinSlot) != slotSize ||
		(h.keyringSlot != nil && len(h.keyringSlot) != slotSize) {
		return nil, corruptf("header: bad field sizes")
	}
	if w := b.Get(hdrWrongPINs); len(w) == 4 {
		h.wrongPINs = binary.BigEndian.Uint32(w)
	}
	return h, nil
}

func writeHeader(tx *bbolt.Tx, h *header) error {
	b, err := tx.CreateBucketIfNotExists(bucketHeader)
	if err != nil {
		return err
	}
	put := func(k, v []byte) {
		if err == nil {
			err = b.Put(k, v)
		}
	}
	put(hdrVersion, binary.BigEndian.AppendUint32(nil, h.version))
	put(hdrKDF, encodeKDF(h.kdf))
	put(hdrSalt, h.salt)
	put(hdrID, h.id)
	put(hdrPINSlot, h.pinSlot)
	if h.keyringSlot != nil {
		put(hdrKeyringSlot, h.keyringSlot)
	} else if err == nil {
		err = b.Delete(hdrKeyringSlot)
	}
	put(hdrWrongPINs, binary.BigEndian.AppendUint32(nil, h.wrongPINs))
	return err
}

// slotAD binds a wrapped master key to this store and to the parameters that
// produced its wrapping key, so slots cannot be moved between stores.
func slotAD(kind string, h *header) []byte {
	ad := append([]byte("rounds/slot/"+kind+"/"), h.id...)
	if kind == "pin" {
		ad = append(ad, h.salt...)
		ad = append(ad, encodeKDF(h.kdf)...)
	}
	return ad
}

func wrapKey(kek, master, ad []byte) []byte {
	nonce := randomBytes(nonceSize)
	return newAEAD(kek).Seal(nonce, nonce, master, ad)
}

// unwrapKey returns the master key, or false if kek is not the right key.
func unwrapKey(kek, slot, ad []byte) ([]byte, bool) {
	if len(slot) != slotSize || len(kek) != keySize {
		return nil, false
	}
	mk, err := newAEAD(kek).Open(nil, slot[:nonceSize], slot[nonceSize:], ad)
	return mk, err == nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("securestore: crypto/rand failed: " + err.Error())
	}
	return b
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}

// preflight checks a file before bbolt maps it, because bbolt trusts its meta
// pages and can panic or fault on a file that is too short for them. It
// returns ErrNotAStore for a non-bbolt file and ErrCorrupt for a truncated one.
func preflight(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	var page [4096]byte
	n, _ := io.ReadFull(f, page[:])
	if n < 80 {
		return fmt.Errorf("%w: file too short (%d bytes)", ErrNotAStore, size)
	}
	const magic = 0xED0CDAED
	if binary.LittleEndian.Uint32(page[16:20]) != magic && binary.BigEndian.Uint32(page[16:20]) != magic {
		return fmt.Errorf("%w: no bbolt magic", ErrNotAStore)
	}
	pageSize := int64(binary.LittleEndian.Uint32(page[24:28]))
	if pageSize < 512 || pageSize > 1<<20 || pageSize&(pageSize-1) != 0 {
		return corruptf("bad page size %d", pageSize)
	}
	// Both meta pages (0 and 1) must be present; of the valid ones, the newest
	// decides how many pages the file must have.
	var best, bestTx uint64
	found := false
	for i := int64(0); i < 2; i++ {
		var meta [80]byte
		if _, err := f.ReadAt(meta[:], i*pageSize); err != nil {
			continue
		}
		m := meta[16:]
		if binary.LittleEndian.Uint32(m[0:4]) != magic {
			continue
		}
		h := fnv.New64a()
		h.Write(m[:56])
		if h.Sum64() != binary.LittleEndian.Uint64(m[56:64]) {
			continue
		}
		pgid, txid := binary.LittleEndian.Uint64(m[40:48]), binary.LittleEndian.Uint64(m[48:56])
		if !found || txid > bestTx {
			best, bestTx, found = pgid, txid, true
		}
	}
	if !found {
		return corruptf("both meta pages invalid")
	}
	if best > uint64(size/pageSize) {
		return corruptf("file truncated: %d bytes, meta needs %d pages of %d", size, best, pageSize)
	}
	return nil
}

// mapBoltErr turns bbolt's open errors into our sentinels.
func mapBoltErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %v", ErrInUse, err)
	case errors.Is(err, berrors.ErrInvalid):
		return fmt.Errorf("%w: %v", ErrNotAStore, err)
	case errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return err
}
