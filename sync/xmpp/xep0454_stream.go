package xmpp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Streaming AES-GCM for XEP-0454 files. The format is one GCM operation over
// the whole file with the 16-byte tag appended; crypto/cipher's AEAD wants
// the whole message in memory, and a 100 MB scan must not be. No maintained Go
// library offers streaming GCM (it is deliberately absent from the standard
// library because it releases unverified plaintext), so it is built here:
//
//   - the keystream is AES-CTR from counter block inc32(J0) (counter 2 for a
//     12-byte IV), with the GCM 32-bit counter wrap handled for 16-byte IVs;
//   - GHASH is computed chunk by chunk. The bulk work is done by the
//     standard library's (hardware-accelerated) GCM: sealing an empty
//     message with the chunk as associated data under a probe nonce yields
//     GHASH(chunk ‖ lengths) XOR E_K(probe J0). Removing the mask and the
//     length block leaves the chunk's contribution, and chunks combine by
//     Horner's rule with H^blocks. Only a few field multiplications per
//     64 KiB chunk are done in Go.
//
// Decryption releases plaintext before the tag is checked. Callers must treat
// it as unverified until Close returns nil (Rounds writes it only into a
// pending vault blob that is destroyed on failure).

// ErrAESGCMAuth means the tag did not match: wrong key, or a truncated or
// altered file.
var ErrAESGCMAuth = errors.New("xmpp: aesgcm file failed authentication (wrong key, or truncated or altered download)")

// maxGCMPlaintext is GCM's limit for one message (2^39-256 bits).
const maxGCMPlaintext = 1<<36 - 32

// ghashChunk is how much ciphertext is hashed per probe seal; a multiple of 16.
const ghashChunk = 64 << 10

type gfElem struct{ hi, lo uint64 }

func gfLoad(b []byte) gfElem {
	return gfElem{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:16])}
}

func (x gfElem) bytes() (b [16]byte) {
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return b
}

func (x gfElem) xor(y gfElem) gfElem { return gfElem{x.hi ^ y.hi, x.lo ^ y.lo} }

// gfMul multiplies in GF(2^128) with GCM's bit order (SP 800-38D Algorithm 1).
func gfMul(x, y gfElem) gfElem {
	var z gfElem
	v := y
	for i := 0; i < 128; i++ {
		var bit uint64
		if i < 64 {
			bit = x.hi >> (63 - i) & 1
		} else {
			bit = x.lo >> (127 - i) & 1
		}
		mask := -bit
		z.hi ^= v.hi & mask
		z.lo ^= v.lo & mask
		lsb := v.lo & 1
		v.lo = v.lo>>1 | v.hi<<63
		v.hi >>= 1
		v.hi ^= 0xe100000000000000 & -lsb
	}
	return z
}

func gfPow(h gfElem, n uint64) gfElem {
	r := gfElem{hi: 1 << 63} // the field's one
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			r = gfMul(r, h)
		}
		h = gfMul(h, h)
	}
	return r
}

// ghashStream accumulates GHASH over ciphertext (no associated data).
type ghashStream struct {
	probe  cipher.AEAD
	mask   gfElem // E_K(0^96 ‖ 1), the probe seal's tag mask
	h      gfElem
	hChunk gfElem // H^(ghashChunk/16)
	acc    gfElem
	buf    []byte
	total  uint64
	nonce  [12]byte
}

func newGHASHStream(block cipher.Block) (*ghashStream, error) {
	probe, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	var zero, h, m [16]byte
	block.Encrypt(h[:], zero[:])
	m[15] = 1
	block.Encrypt(m[:], m[:])
	g := &ghashStream{probe: probe, h: gfLoad(h[:]), mask: gfLoad(m[:]), buf: make([]byte, 0, ghashChunk)}
	g.hChunk = gfPow(g.h, ghashChunk/16)
	return g, nil
}

func (g *ghashStream) write(p []byte) {
	for len(p) > 0 {
		if len(g.buf) == 0 && len(p) >= ghashChunk {
			g.absorb(p[:ghashChunk], g.hChunk)
			p = p[ghashChunk:]
			continue
		}
		n := copy(g.buf[len(g.buf):cap(g.buf)], p)
		g.buf = g.buf[:len(g.buf)+n]
		p = p[n:]
		if len(g.buf) == cap(g.buf) {
			g.absorb(g.buf, g.hChunk)
			g.buf = g.buf[:0]
		}
	}
}

// absorb folds one chunk in: acc = acc·H^blocks ⊕ (S ⊕ L·H), where S is the
// probe's GHASH over the chunk and its length block L.
func (g *ghashStream) absorb(chunk []byte, hBlocks gfElem) {
	var tag [16]byte
	g.probe.Seal(tag[:0], g.nonce[:], nil, chunk)
	s := gfLoad(tag[:]).xor(g.mask)
	l := gfElem{hi: uint64(len(chunk)) * 8}
	z := s.xor(gfMul(l, g.h))
	g.acc = gfMul(g.acc, hBlocks).xor(z)
	g.total += uint64(len(chunk))
}

// sum is GHASH over all ciphertext written, with GCM's final length block.
func (g *ghashStream) sum() gfElem {
	if len(g.buf) > 0 {
		blocks := uint64(len(g.buf)+15) / 16
		g.absorb(g.buf, gfPow(g.h, blocks))
		g.buf = g.buf[:0]
	}
	l := gfElem{lo: g.total * 8}
	return g.acc.xor(gfMul(l, g.h))
}

// gcmCTR is GCM's counter mode: inc32 on the low 32 bits only. cipher.NewCTR
// carries into the upper bits, so the stream is restarted at the wrap.
type gcmCTR struct {
	block cipher.Block
	ctr   [16]byte
	s     cipher.Stream
	left  uint64 // keystream bytes before the low 32 bits wrap
}

func (c *gcmCTR) reset(ctr [16]byte) {
	c.ctr = ctr
	c.s = cipher.NewCTR(c.block, ctr[:])
	c.left = (1<<32 - uint64(binary.BigEndian.Uint32(ctr[12:]))) * 16
}

func (c *gcmCTR) XORKeyStream(dst, src []byte) {
	for len(src) > 0 {
		n := len(src)
		if uint64(n) > c.left {
			n = int(c.left)
		}
		c.s.XORKeyStream(dst[:n], src[:n])
		dst, src = dst[n:], src[n:]
		c.left -= uint64(n)
		if c.left == 0 {
			next := c.ctr
			binary.BigEndian.PutUint32(next[12:], 0)
			c.reset(next)
		}
	}
}

// gcmState is what encryption and decryption share.
type gcmState struct {
	ctr   gcmCTR
	ghash *ghashStream
	ekJ0  gfElem
	n     uint64
}

func newGCMState(key, iv []byte) (*gcmState, error) {
	if len(key) != AESGCMKeySize {
		return nil, fmt.Errorf("xmpp: aesgcm key must be %d bytes", AESGCMKeySize)
	}
	if len(iv) != AESGCMIVSize && len(iv) != aesgcmLegacyIV {
		return nil, fmt.Errorf("xmpp: aesgcm IV must be %d or %d bytes", AESGCMIVSize, aesgcmLegacyIV)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gh, err := newGHASHStream(block)
	if err != nil {
		return nil, err
	}
	var j0 [16]byte
	if len(iv) == 12 {
		copy(j0[:], iv)
		j0[15] = 1
	} else {
		// J0 = GHASH(IV ‖ 0^64 ‖ [len(IV)·8]64).
		y := gfMul(gfLoad(iv), gh.h)
		y = gfMul(y.xor(gfElem{lo: uint64(len(iv)) * 8}), gh.h)
		j0 = y.bytes()
	}
	var ek [16]byte
	block.Encrypt(ek[:], j0[:])
	st := &gcmState{ghash: gh, ekJ0: gfLoad(ek[:]), ctr: gcmCTR{block: block}}
	first := j0
	binary.BigEndian.PutUint32(first[12:], binary.BigEndian.Uint32(j0[12:])+1)
	st.ctr.reset(first)
	return st, nil
}

func (st *gcmState) tag() [16]byte { return st.ghash.sum().xor(st.ekJ0).bytes() }

// AESGCMEncrypter reads plaintext from a source and yields the XEP-0454 file:
// ciphertext, then the 16-byte tag. Its length is always source length + 16.
type AESGCMEncrypter struct {
	src  io.Reader
	st   *gcmState
	tail []byte // the tag, once the source is exhausted
	done bool
	err  error
}

// NewAESGCMEncrypter starts encrypting src under key and iv (use a fresh key
// for every file).
func NewAESGCMEncrypter(src io.Reader, key, iv []byte) (*AESGCMEncrypter, error) {
	st, err := newGCMState(key, iv)
	if err != nil {
		return nil, err
	}
	return &AESGCMEncrypter{src: src, st: st}, nil
}

func (e *AESGCMEncrypter) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.done {
		if len(e.tail) == 0 {
			return 0, io.EOF
		}
		n := copy(p, e.tail)
		e.tail = e.tail[n:]
		return n, nil
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := e.src.Read(p)
	if n > 0 {
		e.st.n += uint64(n)
		if e.st.n > maxGCMPlaintext {
			e.err = errors.New("xmpp: file too large for AES-GCM")
			return 0, e.err
		}
		e.st.ctr.XORKeyStream(p[:n], p[:n])
		e.st.ghash.write(p[:n])
	}
	switch {
	case err == io.EOF:
		t := e.st.tag()
		e.tail, e.done = t[:], true
		if n == 0 {
			return e.Read(p)
		}
		return n, nil
	case err != nil:
		e.err = err
		return n, err
	}
	return n, nil
}

// AESGCMDecrypter takes the XEP-0454 file as writes and passes plaintext on
// to dst, holding back the last 16 bytes as the tag. Close checks it; until
// Close returns nil, what dst received is unverified.
type AESGCMDecrypter struct {
	dst  io.Writer
	st   *gcmState
	hold [aesgcmTagSize]byte
	held int
	buf  []byte
	err  error
}

// NewAESGCMDecrypter starts decrypting into dst under key and iv.
func NewAESGCMDecrypter(dst io.Writer, key, iv []byte) (*AESGCMDecrypter, error) {
	st, err := newGCMState(key, iv)
	if err != nil {
		return nil, err
	}
	return &AESGCMDecrypter{dst: dst, st: st}, nil
}

func (d *AESGCMDecrypter) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	total := len(p)
	// The newest 16 bytes may be the tag; everything before them is ciphertext.
	if d.held+len(p) <= aesgcmTagSize {
		copy(d.hold[d.held:], p)
		d.held += len(p)
		return total, nil
	}
	release := d.held + len(p) - aesgcmTagSize // bytes of ciphertext now certain
	if cap(d.buf) < release {
		d.buf = make([]byte, 0, max(release, 32<<10))
	}
	buf := d.buf[:0]
	fromHold := min(release, d.held)
	buf = append(buf, d.hold[:fromHold]...)
	buf = append(buf, p[:release-fromHold]...)
	// New hold: what remains of the old hold, then the rest of p.
	var nh [aesgcmTagSize]byte
	k := copy(nh[:], d.hold[fromHold:d.held])
	k += copy(nh[k:], p[release-fromHold:])
	d.hold, d.held = nh, k
	d.st.n += uint64(len(buf))
	if d.st.n > maxGCMPlaintext {
		d.err = errors.New("xmpp: file too large for AES-GCM")
		return 0, d.err
	}
	d.st.ghash.write(buf)
	d.st.ctr.XORKeyStream(buf, buf)
	if _, err := d.dst.Write(buf); err != nil {
		d.err = err
		return 0, err
	}
	d.buf = buf
	return total, nil
}

// Close verifies the tag: nil only for an authentic, complete file.
func (d *AESGCMDecrypter) Close() error {
	if d.err != nil {
		return d.err
	}
	d.err = errors.New("xmpp: aesgcm decrypter closed")
	if d.held < aesgcmTagSize {
		return fmt.Errorf("%w: shorter than the tag", ErrAESGCMAuth)
	}
	want := d.st.tag()
	if subtle.ConstantTimeCompare(want[:], d.hold[:]) != 1 {
		return ErrAESGCMAuth
	}
	return nil
}
