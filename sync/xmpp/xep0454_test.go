package xmpp

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func oracleSeal(t testing.TB, key, iv, pt []byte) []byte {
	block, _ := aes.NewCipher(key)
	g, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		t.Fatal(err)
	}
	return g.Seal(nil, iv, pt, nil)
}

// chunkyReader returns data in random-sized pieces, so chunk boundaries of the
// stream fall everywhere.
type chunkyReader struct {
	r   io.Reader
	rnd *mrand.Rand
}

func (c *chunkyReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1+c.rnd.IntN(min(len(p), 70000))]
	}
	return c.r.Read(p)
}

func TestAESGCMStreamMatchesCryptoCipher(t *testing.T) {
	sizes := []int{0, 1, 15, 16, 17, 31, 32, 33, 4095, ghashChunk - 1, ghashChunk, ghashChunk + 1, 3*ghashChunk + 7, 1<<20 + 12345}
	rnd := mrand.New(mrand.NewPCG(1, 2))
	for i := 0; i < 6; i++ {
		sizes = append(sizes, rnd.IntN(300000))
	}
	for _, ivLen := range []int{12, 16} {
		for _, n := range sizes {
			key, iv, pt := make([]byte, 32), make([]byte, ivLen), make([]byte, n)
			rand.Read(key)
			rand.Read(iv)
			rand.Read(pt)
			want := oracleSeal(t, key, iv, pt)
			enc, err := NewAESGCMEncrypter(&chunkyReader{bytes.NewReader(pt), rnd}, key, iv)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("iv %d size %d: encrypt differs from crypto/cipher GCM", ivLen, n)
			}
			var out bytes.Buffer
			dec, err := NewAESGCMDecrypter(&out, key, iv)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(dec, &chunkyReader{bytes.NewReader(want), rnd}); err != nil {
				t.Fatal(err)
			}
			if err := dec.Close(); err != nil {
				t.Fatalf("iv %d size %d: decrypt: %v", ivLen, n, err)
			}
			if !bytes.Equal(out.Bytes(), pt) {
				t.Fatalf("iv %d size %d: decrypt differs", ivLen, n)
			}
		}
	}
}

// A 16-byte IV puts J0's low 32 bits anywhere, so the GCM counter can wrap
// within a file; crypto/cipher wraps only those 32 bits, and so must we.
func TestAESGCMStreamCounterWrap(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	var h [16]byte
	block.Encrypt(h[:], h[:])
	hh := gfLoad(h[:])
	// Choose J0 just before the wrap and solve for the IV:
	// J0 = ((IV·H) ⊕ L)·H, so IV = ((J0·H⁻¹) ⊕ L)·H⁻¹, with H⁻¹ = H^(2^128-2).
	inv, base := gfElem{hi: 1 << 63}, hh
	for i := 0; i < 128; i++ {
		if i > 0 {
			inv = gfMul(inv, base)
		}
		base = gfMul(base, base)
	}
	if one := gfMul(inv, hh); one != (gfElem{hi: 1 << 63}) {
		t.Fatal("inverse wrong")
	}
	j0 := gfElem{hi: 0x0123456789abcdef, lo: 0x00c0ffeefffffff0}
	ivE := gfMul(gfMul(j0, inv).xor(gfElem{lo: 128}), inv)
	ivB := ivE.bytes()
	iv := ivB[:]
	pt := make([]byte, 16*300)
	rand.Read(pt)
	want := oracleSeal(t, key, iv, pt)
	enc, _ := NewAESGCMEncrypter(bytes.NewReader(pt), key, iv)
	got, _ := io.ReadAll(enc)
	if !bytes.Equal(got, want) {
		t.Fatal("counter wrap differs from crypto/cipher")
	}
}

func TestAESGCMStreamRejects(t *testing.T) {
	key, iv := make([]byte, 32), make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	pt := make([]byte, 100000)
	rand.Read(pt)
	ct := oracleSeal(t, key, iv, pt)
	open := func(key, data []byte) error {
		dec, err := NewAESGCMDecrypter(io.Discard, key, iv)
		if err != nil {
			return err
		}
		if _, err := dec.Write(data); err != nil {
			return err
		}
		return dec.Close()
	}
	wrong := append([]byte(nil), key...)
	wrong[0] ^= 1
	altered := append([]byte(nil), ct...)
	altered[5000] ^= 0x80
	for name, err := range map[string]error{
		"wrong key": open(wrong, ct),
		"truncated": open(key, ct[:len(ct)-1]),
		"altered":   open(key, altered),
		"tag only":  open(key, ct[len(ct)-16:]),
		"short":     open(key, ct[:7]),
		"extended":  open(key, append(append([]byte(nil), ct...), 0)),
	} {
		if !errors.Is(err, ErrAESGCMAuth) {
			t.Errorf("%s: got %v, want ErrAESGCMAuth", name, err)
		}
	}
	if err := open(key, ct); err != nil {
		t.Fatalf("good file: %v", err)
	}
	if _, err := NewAESGCMEncrypter(iotest.ErrReader(io.ErrUnexpectedEOF), key, iv[:8]); err == nil {
		t.Fatal("8-byte IV accepted")
	}
	enc, _ := NewAESGCMEncrypter(iotest.ErrReader(io.ErrUnexpectedEOF), key, iv)
	if _, err := io.ReadAll(enc); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("source error lost: %v", err)
	}
}

func TestAESGCMURLRoundTrip(t *testing.T) {
	key, iv := make([]byte, 32), make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	u, err := NewAESGCMURL("https://upload.example.org/file_share/abc/scan%20one.jpg", iv, key)
	if err != nil {
		t.Fatal(err)
	}
	s := u.String()
	if !strings.HasPrefix(s, "aesgcm://upload.example.org/file_share/abc/scan%20one.jpg#") || !strings.HasSuffix(s, hex.EncodeToString(iv)+hex.EncodeToString(key)) {
		t.Fatalf("link %s", s)
	}
	p, err := ParseAESGCMURL(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.HTTPURL != u.HTTPURL || !bytes.Equal(p.Key, key) || !bytes.Equal(p.IV, iv) {
		t.Fatalf("parsed %+v", p)
	}
	// Loopback links (tests, demo) are fetched over http.
	l, err := ParseAESGCMURL("aesgcm://127.0.0.1:5280/file_share/x/a.pdf#" + strings.Repeat("ab", 44))
	if err != nil || l.HTTPURL != "http://127.0.0.1:5280/file_share/x/a.pdf" {
		t.Fatalf("loopback: %v %q", err, l.HTTPURL)
	}
	if _, err := NewAESGCMURL("http://files.example.org/a", iv, key); err == nil {
		t.Fatal("plain http to a remote host accepted")
	}
}

// testdata/good_aesgcm_url_* must parse, testdata/fail_aesgcm_url_* must not;
// each file is one link.
func TestAESGCMURLFixtures(t *testing.T) {
	for _, prefix := range []string{"good", "fail"} {
		files, _ := filepath.Glob(filepath.Join("testdata", prefix+"_aesgcm_url_*"))
		if len(files) == 0 {
			t.Fatalf("no %s fixtures", prefix)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseAESGCMURL(strings.TrimSuffix(string(b), "\n"))
			if prefix == "good" && err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if prefix == "fail" {
				if err == nil {
					t.Errorf("%s: accepted", f)
				} else if !errors.Is(err, ErrAESGCMURL) {
					t.Errorf("%s: error %v does not wrap ErrAESGCMURL", f, err)
				}
			}
		}
	}
}

func FuzzParseAESGCMURL(f *testing.F) {
	f.Add("aesgcm://upload.example.org/f/a.jpg#" + strings.Repeat("0f", 44))
	f.Add("aesgcm://127.0.0.1:1/x#" + strings.Repeat("AA", 48))
	f.Add("aesgcm://#")
	f.Add("aesgcm://u@h/p#" + strings.Repeat("00", 44))
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseAESGCMURL(s)
		if err != nil {
			if !errors.Is(err, ErrAESGCMURL) {
				t.Fatalf("error does not wrap ErrAESGCMURL: %v", err)
			}
			return
		}
		if len(u.Key) != 32 || (len(u.IV) != 12 && len(u.IV) != 16) {
			t.Fatalf("accepted key %d iv %d", len(u.Key), len(u.IV))
		}
		if !strings.HasPrefix(u.HTTPURL, "https://") && !strings.HasPrefix(u.HTTPURL, "http://") {
			t.Fatalf("HTTP URL %q", u.HTTPURL)
		}
		// What we accept, we can write back and read again identically.
		again, err := ParseAESGCMURL(u.String())
		if err != nil || !bytes.Equal(again.Key, u.Key) || !bytes.Equal(again.IV, u.IV) || again.HTTPURL != u.HTTPURL {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

func BenchmarkAESGCMStream(b *testing.B) {
	key, iv := make([]byte, 32), make([]byte, 12)
	pt := make([]byte, 8<<20)
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		enc, _ := NewAESGCMEncrypter(bytes.NewReader(pt), key, iv)
		io.Copy(io.Discard, enc)
	}
}
