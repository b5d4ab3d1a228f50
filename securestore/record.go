package securestore

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// Record envelope. Every value in the file except the clear header and the
// index values (local ids) is one of:
//
//	v1: 0x01 | nonce (24) | XChaCha20-Poly1305 ciphertext+tag
//	    sealed with the store's data key (derived from the master key)
//	v2: 0x02 | period (8, big-endian) | nonce (24) | ciphertext+tag
//	    sealed with the key of that retention period (messages, attachments)
//
// The associated data is bucket name and record key, so a record copied to
// another key or bucket fails to open.
const (
	recordV1     = 0x01
	recordV2     = 0x02
	nonceSize    = chacha20poly1305.NonceSizeX
	keySize      = chacha20poly1305.KeySize
	tagSize      = chacha20poly1305.Overhead
	v1HeaderSize = 1 + nonceSize
	v2HeaderSize = 1 + 8 + nonceSize
)

// envelope is a decoded (still sealed) record.
type envelope struct {
	version    byte
	period     uint64 // v2 only
	nonce      []byte
	ciphertext []byte
}

// decodeEnvelope splits a stored value. It validates sizes only; opening checks
// authenticity.
func decodeEnvelope(b []byte) (envelope, error) {
	if len(b) < 1 {
		return envelope{}, corruptf("empty record")
	}
	switch b[0] {
	case recordV1:
		if len(b) < v1HeaderSize+tagSize {
			return envelope{}, corruptf("short v1 record (%d bytes)", len(b))
		}
		return envelope{version: recordV1, nonce: b[1:v1HeaderSize], ciphertext: b[v1HeaderSize:]}, nil
	case recordV2:
		if len(b) < v2HeaderSize+tagSize {
			return envelope{}, corruptf("short v2 record (%d bytes)", len(b))
		}
		return envelope{
			version:    recordV2,
			period:     binary.BigEndian.Uint64(b[1:9]),
			nonce:      b[9:v2HeaderSize],
			ciphertext: b[v2HeaderSize:],
		}, nil
	default:
		if b[0] > recordV2 {
			return envelope{}, fmt.Errorf("%w: record version %d", ErrNewerVersion, b[0])
		}
		return envelope{}, corruptf("unknown record version %d", b[0])
	}
}

// recordAD builds the associated data: len(bucket) | bucket | key.
func recordAD(dst []byte, bucket, key []byte) []byte {
	dst = append(dst, byte(len(bucket)))
	dst = append(dst, bucket...)
	return append(dst, key...)
}

// sealV1 seals plaintext for bucket/key with the data key, appending to dst.
func sealV1(dst []byte, aead cipher.AEAD, bucket, key, plaintext []byte) []byte {
	var adBuf [96]byte
	ad := recordAD(adBuf[:0], bucket, key)
	start := len(dst)
	dst = append(dst, recordV1)
	dst = append(dst, make([]byte, nonceSize)...)
	nonce := dst[start+1 : start+v1HeaderSize]
	if _, err := rand.Read(nonce); err != nil {
		panic("securestore: crypto/rand failed: " + err.Error()) // crypto/rand never fails on supported OSes
	}
	return aead.Seal(dst, nonce, plaintext, ad)
}

// sealV2 seals plaintext with a period key, recording the period in clear so
// Purge and Open know which key to use.
func sealV2(dst []byte, aead cipher.AEAD, period uint64, bucket, key, plaintext []byte) []byte {
	var adBuf [96]byte
	return sealV2AD(dst, adBuf[:0], aead, period, bucket, key, plaintext)
}

// sealV2AD is sealV2 building the associated data in adScratch: what is
// handed to the AEAD escapes, so a caller sealing many records passes a
// buffer it keeps.
func sealV2AD(dst, adScratch []byte, aead cipher.AEAD, period uint64, bucket, key, plaintext []byte) []byte {
	ad := recordAD(adScratch[:0], bucket, key)
	start := len(dst)
	dst = append(dst, recordV2)
	dst = binary.BigEndian.AppendUint64(dst, period)
	dst = append(dst, make([]byte, nonceSize)...)
	nonce := dst[start+9 : start+v2HeaderSize]
	if _, err := rand.Read(nonce); err != nil {
		panic("securestore: crypto/rand failed: " + err.Error())
	}
	return aead.Seal(dst, nonce, plaintext, ad)
}

// openEnvelope authenticates and decrypts. The error wraps ErrCorrupt and names
// the bucket (never the contents).
func openEnvelope(aead cipher.AEAD, env envelope, bucket, key []byte) ([]byte, error) {
	var adBuf [96]byte
	ad := recordAD(adBuf[:0], bucket, key)
	pt, err := aead.Open(nil, env.nonce, env.ciphertext, ad)
	if err != nil {
		return nil, corruptf("record in %q failed authentication", bucket)
	}
	return pt, nil
}

func newAEAD(key []byte) cipher.AEAD {
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		panic("securestore: bad key size") // keys are always 32 bytes, made here
	}
	return a
}
