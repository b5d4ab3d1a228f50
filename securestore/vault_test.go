package securestore

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// plainMarker is a recognisable plaintext: if it ever shows up on disk, the
// vault leaked.
func plainData(n int) []byte {
	pat := []byte("PLAINTEXT-WOUND-PHOTO-BED12-")
	b := make([]byte, n)
	for i := range b {
		b[i] = pat[i%len(pat)]
	}
	return b
}

func newAttachment(t testing.TB, s *Store, id string, at time.Time) Attachment {
	t.Helper()
	added := mustAppend(t, s, incoming("ward7@hospital.example", "sid-"+id, "aesgcm://files.example/"+id, at))
	a := Attachment{ID: id, MessageID: added[0].ID, Name: "scan.jpg", MIME: "image/jpeg", URL: "aesgcm://files.example/" + id}
	if err := s.PutAttachment(a); err != nil {
		t.Fatal(err)
	}
	return a
}

func writeBlob(t testing.TB, s *Store, id string, data []byte) {
	t.Helper()
	w, err := s.CreateBlob(id)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	// Odd write sizes so chunk boundaries fall mid-write.
	for p := data; len(p) > 0; {
		n := min(len(p), 7777)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

func assertNoPlaintext(t testing.TB, dir string, needle []byte) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, needle) {
			t.Fatalf("plaintext found in %s", p)
		}
		return nil
	})
}

func TestVaultRoundTrip(t *testing.T) {
	s, path, _ := newTestStore(t)
	for i, n := range []int{0, 1, blobChunk - 1, blobChunk, blobChunk + 1, 1<<20 + 12345} {
		id := fmt.Sprint("att-", i)
		newAttachment(t, s, id, day0)
		data := plainData(n)
		writeBlob(t, s, id, data)
		if sz, err := s.BlobSize(id); err != nil || sz != int64(n) {
			t.Fatalf("size %d: BlobSize %d %v", n, sz, err)
		}
		r, err := s.OpenBlob(id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, %v", n, len(got), err)
		}
		if n > 100 {
			// Seek anywhere, including across chunk boundaries.
			for _, off := range []int64{int64(n) - 1, 0, blobChunk - 3, int64(n / 2)} {
				if off >= int64(n) {
					continue
				}
				if _, err := r.Seek(off, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 10)
				k, _ := io.ReadFull(r, buf)
				if !bytes.Equal(buf[:k], data[off:off+int64(k)]) {
					t.Fatalf("size %d: seek %d reads wrong bytes", n, off)
				}
			}
		}
		r.Close()
	}
	assertNoPlaintext(t, filepath.Dir(path), []byte("PLAINTEXT-WOUND"))
	assertNoPlaintext(t, filepath.Dir(path), []byte("scan.jpg"))
}

func TestVaultAbortAndFailedCommitLeaveNothing(t *testing.T) {
	s, _, _ := newTestStore(t)
	newAttachment(t, s, "a1", day0)
	w, err := s.CreateBlob("a1")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plainData(200000))
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if files := s.vaultFiles(); len(files) != 0 {
		t.Fatalf("abort left %v", files)
	}
	if _, err := s.OpenBlob("a1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("aborted blob opens: %v", err)
	}
	// Commit for an attachment that does not exist: refused, nothing left.
	w, _ = s.CreateBlob("no-such-attachment")
	w.Write(plainData(1000))
	if err := w.Commit(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("commit without attachment: %v", err)
	}
	if files := s.vaultFiles(); len(files) != 0 {
		t.Fatalf("failed commit left %v", files)
	}
	if err := w.Commit(); err == nil {
		t.Fatal("second commit accepted")
	}
}

// A crash mid-write leaves a .part file, and one between rename and the
// record's commit an unnamed file: both are swept at the next unlock.
func TestVaultCrashLeftoversSweptOnOpen(t *testing.T) {
	s, path, opts := newTestStore(t)
	newAttachment(t, s, "kept", day0)
	writeBlob(t, s, "kept", plainData(5000))
	newAttachment(t, s, "crashing", day0)
	w, _ := s.CreateBlob("crashing")
	w.Write(plainData(300000)) // never committed nor aborted: the process "dies"
	orphan := filepath.Join(s.vaultDir(), strings.Repeat("ab", 16))
	if err := os.WriteFile(orphan, []byte("RVB1 renamed but never recorded"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := len(s.vaultFiles()); n != 3 {
		t.Fatalf("want 3 files before reopen, have %d", n)
	}
	s.Close()
	s2, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if files := s2.vaultFiles(); len(files) != 1 {
		t.Fatalf("after reopen: %v", files)
	}
	r, err := s2.OpenBlob("kept")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, plainData(5000)) {
		t.Fatal("kept blob changed")
	}
	if _, err := s2.OpenBlob("crashing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("crashed blob visible: %v", err)
	}
}

func TestVaultTamperDetected(t *testing.T) {
	s, _, _ := newTestStore(t)
	data := plainData(3*blobChunk + 100)
	newAttachment(t, s, "t", day0)
	orig := func() string {
		writeBlob(t, s, "t", data)
		files := s.vaultFiles()
		if len(files) != 1 {
			t.Fatalf("files %v", files)
		}
		return filepath.Join(s.vaultDir(), files[0])
	}
	readAll := func() error {
		r, err := s.OpenBlob("t")
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.ReadAll(r)
		return err
	}
	cases := map[string]func(b []byte) []byte{
		"flipped bit": func(b []byte) []byte { b[blobHeaderLen+blobChunk+50] ^= 1; return b },
		"truncated at chunk boundary": func(b []byte) []byte {
			return b[:blobHeaderLen+2*(blobChunk+tagSize)]
		},
		"chunks swapped": func(b []byte) []byte {
			c := blobChunk + tagSize
			x := append([]byte(nil), b[blobHeaderLen:blobHeaderLen+c]...)
			copy(b[blobHeaderLen:], b[blobHeaderLen+c:blobHeaderLen+2*c])
			copy(b[blobHeaderLen+c:], x)
			return b
		},
		"header":           func(b []byte) []byte { b[0] = 'X'; return b },
		"one byte missing": func(b []byte) []byte { return b[:len(b)-1] },
	}
	for name, damage := range cases {
		p := orig()
		b, _ := os.ReadFile(p)
		os.WriteFile(p, damage(b), 0o600)
		if err := readAll(); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
	}
}

func TestVaultDeleteAndReplace(t *testing.T) {
	s, _, _ := newTestStore(t)
	newAttachment(t, s, "d", day0)
	writeBlob(t, s, "d", plainData(10))
	writeBlob(t, s, "d", plainData(20)) // replaces
	if files := s.vaultFiles(); len(files) != 1 {
		t.Fatalf("replace left %v", files)
	}
	if sz, _ := s.BlobSize("d"); sz != 20 {
		t.Fatalf("size %d", sz)
	}
	if err := s.DeleteBlob("d"); err != nil {
		t.Fatal(err)
	}
	if files := s.vaultFiles(); len(files) != 0 {
		t.Fatalf("delete left %v", files)
	}
	if err := s.DeleteBlob("d"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Attachment("d"); err != nil {
		t.Fatalf("metadata lost with the file: %v", err)
	}
}

// Retention: a blob goes with its message's period; a newer one stays.
func TestVaultPurgedWithPeriod(t *testing.T) {
	s, path, _ := newTestStore(t)
	newAttachment(t, s, "old", day0)
	newAttachment(t, s, "new", day0.Add(72*time.Hour))
	old := make([]byte, 100000)
	rand.Read(old)
	writeBlob(t, s, "old", old)
	writeBlob(t, s, "new", plainData(100))
	rep, err := s.Purge(day0.Add(48 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Attachments != 1 {
		t.Fatalf("purge report %+v", rep)
	}
	if files := s.vaultFiles(); len(files) != 1 {
		t.Fatalf("after purge: %v", files)
	}
	if _, err := s.OpenBlob("old"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("purged blob: %v", err)
	}
	if _, err := s.OpenBlob("new"); err != nil {
		t.Fatalf("kept blob: %v", err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte("scan.jpg")) {
		t.Fatal("attachment name in clear in the store file")
	}
}

func TestVaultWipedWithStore(t *testing.T) {
	s, path, _ := newTestStore(t)
	newAttachment(t, s, "w", day0)
	writeBlob(t, s, "w", plainData(1000))
	if err := s.Wipe(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + vaultSuffix); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("vault survives wipe: %v", err)
	}
}

func BenchmarkVaultWrite(b *testing.B) {
	s, _, _ := newTestStore(b)
	newAttachment(b, s, "bench", day0)
	data := make([]byte, 8<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		w, _ := s.CreateBlob("bench")
		w.Write(data)
		if err := w.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}
