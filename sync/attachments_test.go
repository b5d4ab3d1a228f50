package sync

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// windows returns the needles whose presence on disk would mean a leak: the
// named marker, and slices of the file from start, middle and end.
func windows(data []byte, marker string) [][]byte {
	out := [][]byte{[]byte(marker)}
	for _, off := range []int{0, len(data) / 3, len(data) / 2, len(data) - 48} {
		if off >= 0 && off+48 <= len(data) {
			out = append(out, data[off:off+48])
		}
	}
	return out
}

// assertNoPlaintextUnder walks dir and fails if any file contains a needle.
func assertNoPlaintextUnder(t testing.TB, what, dir string, needles [][]byte) int {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		files++
		for i, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s: plaintext (needle %d) found in %s", what, i, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// incomingAttachment waits until d stored an incoming message carrying an
// attachment link, and returns it with its attachment row.
func (d *device) incomingAttachment(from string, n int) (securestore.Message, securestore.Attachment) {
	d.t.Helper()
	var msgs []securestore.Message
	d.waitFor("attachment message", 20*time.Second, func() bool {
		msgs = msgs[:0]
		for _, m := range d.conversation(from) {
			if m.Direction == securestore.Incoming && m.Extra[ExtraAttachmentURL] != "" {
				msgs = append(msgs, m)
			}
		}
		return len(msgs) > n
	})
	m := msgs[n]
	atts, err := d.session.Attachments(m)
	if err != nil || len(atts) != 1 {
		d.t.Fatalf("attachments of incoming message: %v %v", atts, err)
	}
	return m, atts[0]
}

func readBlob(t testing.TB, st *securestore.Store, id string) []byte {
	t.Helper()
	r, err := st.OpenBlob(id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAttachmentPhotoAndPDF is the "done means": a photo and a PDF go
// from one user to another through the real Prosody upload component,
// with progress and receipts, and neither the server's upload storage nor
// either device's store directory holds plaintext of either.
func TestAttachmentPhotoAndPDF(t *testing.T) { testserver.EachServer(t, testAttachmentPhotoAndPDF) }

func testAttachmentPhotoAndPDF(t *testing.T, k testserver.Kind) {
	srv := k.StartT(t, testserver.Options{}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := startDevice(t, srv, "bob", deviceOptions{})

	limit, err := alice.session.UploadLimit(context.Background())
	if err != nil || limit != 10<<20 {
		t.Fatalf("upload limit %d, %v (want Prosody's 10 MiB)", limit, err)
	}
	files := []struct{ fixture, name, mime, marker string }{
		{"good_photo.jpg", "Wound left heel, bed 12.jpg", "image/jpeg", "PLAINTEXT-PHOTO-MARKER"},
		{"good_report.pdf", "Potassium result.pdf", "application/pdf", "PLAINTEXT-PDF-MARKER"},
	}
	// needles: the files' content, in no server or device file; names:
	// the files' names, sent in the message's metadata (so in the server's
	// message archive, like every body) but never in the upload storage.
	var needles, names [][]byte
	for i, f := range files {
		data := readFixture(t, f.fixture)
		needles = append(needles, windows(data, f.marker)...)
		names = append(names, []byte(f.name))
		var last, total int64
		m, att, err := alice.session.Upload(context.Background(), bob.jid, bytes.NewReader(data), f.name, f.mime, int64(len(data)),
			func(done, tot int64) { last, total = done, tot })
		if err != nil {
			t.Fatalf("%s: upload: %v", f.fixture, err)
		}
		if last != int64(len(data))+16 || total != last {
			t.Fatalf("%s: upload progress ended at %d/%d", f.fixture, last, total)
		}
		if !strings.HasPrefix(m.Body, "aesgcm://") || m.Extra[ExtraAttachment] != att.ID {
			t.Fatalf("%s: stored message %q %v", f.fixture, m.Body, m.Extra)
		}
		if strings.Contains(m.Body, "Wound") || strings.Contains(m.Body, "Potassium") {
			t.Fatalf("the file's name reached the server: %s", m.Body)
		}
		// The sender keeps the file in its vault.
		if got := readBlob(t, alice.store, att.ID); !bytes.Equal(got, data) {
			t.Fatalf("%s: sender's vault copy differs", f.fixture)
		}

		in, inAtt := bob.incomingAttachment(alice.jid, i)
		if in.Body != m.Body {
			t.Fatalf("%s: received body differs", f.fixture)
		}
		// Before any download, the sender's XEP-0446 metadata names the file.
		if inAtt.MIME != f.mime || inAtt.Name != f.name || inAtt.Size != int64(len(data)) || !bytes.Equal(inAtt.SHA256, att.SHA256) {
			t.Fatalf("%s: before download: name %q type %q size %d", f.fixture, inAtt.Name, inAtt.MIME, inAtt.Size)
		}
		if _, err := bob.store.BlobSize(inAtt.ID); !errors.Is(err, securestore.ErrNotFound) {
			t.Fatalf("%s: recipient has a vault file before downloading: %v", f.fixture, err)
		}
		var dl int64
		got, err := bob.session.Download(context.Background(), inAtt.ID, func(done, _ int64) { dl = done })
		if err != nil {
			t.Fatalf("%s: download: %v", f.fixture, err)
		}
		if dl != int64(len(data))+16 || got.Size != int64(len(data)) || !bytes.Equal(got.SHA256, att.SHA256) {
			t.Fatalf("%s: download progress %d, size %d", f.fixture, dl, got.Size)
		}
		if b := readBlob(t, bob.store, inAtt.ID); !bytes.Equal(b, data) {
			t.Fatalf("%s: recipient's vault copy differs", f.fixture)
		}
		alice.allAtLeast([]securestore.MessageID{m.ID}, securestore.ReceiptDelivered, 20*time.Second)
	}
	// Raw server storage: the server's directory holds the uploads.
	if n := assertNoPlaintextUnder(t, "server storage", srv.Dir, needles); n == 0 {
		t.Fatal("no files in the server's directory")
	}
	uploads := 0
	// Prosody's http_file_share keeps uploads under data/…http_file_share…;
	// the test ejabberd's mod_http_upload under its docroot, upload/, in a
	// folder per slot named after the file name the client asked for.
	store := "http_file_share"
	if k == testserver.Ejabberd {
		store = filepath.Join(srv.Dir, "upload") + string(filepath.Separator)
	}
	filepath.WalkDir(srv.Dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, store) {
			uploads++
			b, _ := os.ReadFile(p)
			for _, n := range names {
				if bytes.Contains(b, n) || strings.Contains(p, string(n)) {
					t.Errorf("a file name reached the upload storage: %s", p)
				}
			}
		}
		return nil
	})
	if uploads < 2 {
		t.Fatalf("found %d uploaded files under the server's directory; the scan did not see them", uploads)
	}
	// Local disk: both stores and their vaults, after a lock (close).
	alice.stop()
	bob.stop()
	for _, d := range []*device{alice, bob} {
		if n := assertNoPlaintextUnder(t, d.jid+" store", filepath.Dir(d.path), append(needles, names...)); n < 2 {
			t.Fatalf("%s: only %d files scanned", d.jid, n)
		}
	}
}

// Upload failures leave no message and nothing in the vault.
func TestAttachmentUploadFailures(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{UploadSizeLimit: 4 << 20}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{})
	bob := srv.JID("bob")
	nothingLeft := func(what string) {
		t.Helper()
		if ms := alice.conversation(bob); len(ms) != 0 {
			t.Fatalf("%s: %d messages stored", what, len(ms))
		}
		if ents, _ := os.ReadDir(alice.path + ".vault"); len(ents) != 0 {
			t.Fatalf("%s: vault holds %d files", what, len(ents))
		}
	}
	big := make([]byte, 6<<20)
	var tl *TooLargeError
	if _, _, err := alice.session.Upload(context.Background(), bob, bytes.NewReader(big), "a.bin", "", int64(len(big)), nil); !errors.As(err, &tl) || tl.Max != 4<<20 {
		t.Fatalf("over the limit: %v", err)
	}
	nothingLeft("too large")

	data := make([]byte, 3<<20)
	rand.Read(data)
	// The reader has fewer bytes than announced.
	if _, _, err := alice.session.Upload(context.Background(), bob, bytes.NewReader(data[:1000]), "a.bin", "", int64(len(data)), nil); !errors.Is(err, ErrUploadSize) {
		t.Fatalf("short reader: %v", err)
	}
	nothingLeft("short reader")
	// ... or more.
	if _, _, err := alice.session.Upload(context.Background(), bob, bytes.NewReader(data), "a.bin", "", 1000, nil); !errors.Is(err, ErrUploadSize) {
		t.Fatalf("long reader: %v", err)
	}
	nothingLeft("long reader")

	// The user cancels half-way.
	ctx, cancel := context.WithCancel(context.Background())
	_, _, err := alice.session.Upload(ctx, bob, bytes.NewReader(data), "a.bin", "", int64(len(data)), func(done, _ int64) {
		if done > 1<<20 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	nothingLeft("cancel")

	// The server goes away mid-upload (a dropped connection).
	_, _, err = alice.session.Upload(context.Background(), bob, &slowReader{r: bytes.NewReader(data), after: 1 << 20, do: srv.Kill}, "a.bin", "", int64(len(data)), nil)
	if err == nil {
		t.Fatal("upload to a killed server succeeded")
	}
	if strings.Contains(err.Error(), "http://") || strings.Contains(err.Error(), "https://") {
		t.Fatalf("upload error quotes the upload URL: %v", err)
	}
	nothingLeft("dropped connection")
	if _, _, err := alice.session.Upload(context.Background(), bob, bytes.NewReader(data), "a.bin", "", int64(len(data)), nil); err == nil {
		t.Fatal("upload while offline succeeded")
	}
	nothingLeft("offline")
}

// slowReader runs do once after `after` bytes were read.
type slowReader struct {
	r     io.Reader
	n     int
	after int
	do    func()
	done  bool
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.n >= s.after && !s.done {
		s.done = true
		s.do()
		time.Sleep(200 * time.Millisecond)
	}
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := s.r.Read(p)
	s.n += n
	return n, err
}

// hostileSession is a Session that never connects: Download needs only the
// store and HTTP.
func hostileSession(t *testing.T) (*Session, *securestore.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nurse.db")
	st := openStore(t, path)
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st, XMPP: xmpp.Config{URL: "ws://127.0.0.1:1/ws", JID: "nurse@rounds.test"}})
	if err != nil {
		t.Fatal(err)
	}
	return s, st, path
}

func sealFile(key, iv, data []byte) []byte {
	b, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(b)
	return g.Seal(nil, iv, data, nil)
}

// TestAttachmentDownloadHostileServer: every bad answer is a clear typed
// error and leaves nothing in the vault.
func TestAttachmentDownloadHostileServer(t *testing.T) {
	photo := readFixture(t, "good_photo.jpg")
	pdf := readFixture(t, "good_report.pdf")
	key, iv := make([]byte, 32), make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	wrongKey := make([]byte, 32)
	rand.Read(wrongKey)
	enc := sealFile(key, iv, photo)
	altered := append([]byte(nil), enc...)
	altered[len(altered)/2] ^= 0x01
	big := sealFile(key, iv, make([]byte, 3<<20))

	mux := http.NewServeMux()
	serve := func(body []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.Write(body) }
	}
	mux.HandleFunc("/ok/photo.jpg", serve(enc))
	mux.HandleFunc("/ok/report.pdf", serve(sealFile(key, iv, pdf)))
	mux.HandleFunc("/altered/photo.jpg", serve(altered))
	mux.HandleFunc("/cut/photo.jpg", serve(enc[:len(enc)-100]))
	mux.HandleFunc("/lying/photo.jpg", serve(sealFile(key, iv, readFixture(t, "fail_html_claiming_jpeg.jpg"))))
	mux.HandleFunc("/lying/report.pdf", serve(sealFile(key, iv, readFixture(t, "fail_zip_claiming_pdf.pdf"))))
	mux.HandleFunc("/gone/photo.jpg", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", 404) })
	mux.HandleFunc("/toolarge/photo.jpg", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 413) })
	mux.HandleFunc("/broken/photo.jpg", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "oops", 500) })
	mux.HandleFunc("/dropped/photo.jpg", func(w http.ResponseWriter, r *http.Request) {
		// Promises the whole file, sends half, hangs up.
		w.Header().Set("Content-Length", fmt.Sprint(len(enc)))
		w.Write(enc[:len(enc)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/huge/photo.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(int64(40)<<30))
		w.Write(enc)
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/endless/blob.bin", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length (chunked), more than the limit.
		for i := 0; i < 8; i++ {
			w.Write(big[:1<<20])
			w.(http.Flusher).Flush()
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	s, st, path := hostileSession(t)
	s.uploads.max = 2 << 20 // as if the server advertised 2 MiB
	msgs, err := st.AppendMessages([]securestore.Message{{
		ConversationID: "doctor@rounds.test", From: "doctor@rounds.test/phone", Direction: securestore.Incoming,
		Body: "attachments", OriginID: "o1", Timestamp: time.Now(), ReceivedAt: time.Now(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	link := func(p string, k []byte) string {
		u, err := xmpp.NewAESGCMURL(srv.URL+p, iv, k)
		if err != nil {
			t.Fatal(err)
		}
		return u.String()
	}
	var (
		httpErr  *HTTPStatusError
		tooLarge *TooLargeError
		mismatch *TypeMismatchError
	)
	cases := []struct {
		name, url, mime string
		check           func(error) bool
	}{
		{"good photo", link("/ok/photo.jpg", key), "image/jpeg", func(err error) bool { return err == nil }},
		{"good pdf", link("/ok/report.pdf", key), "application/pdf", func(err error) bool { return err == nil }},
		{"wrong key", link("/ok/photo.jpg", wrongKey), "image/jpeg", func(err error) bool { return errors.Is(err, ErrAttachmentAuth) }},
		{"altered", link("/altered/photo.jpg", key), "image/jpeg", func(err error) bool { return errors.Is(err, ErrAttachmentAuth) }},
		{"truncated file", link("/cut/photo.jpg", key), "image/jpeg", func(err error) bool { return errors.Is(err, ErrAttachmentAuth) }},
		{"dropped connection", link("/dropped/photo.jpg", key), "image/jpeg", func(err error) bool { return errors.Is(err, ErrDownloadTruncated) }},
		{"404", link("/gone/photo.jpg", key), "image/jpeg", func(err error) bool { return errors.As(err, &httpErr) && httpErr.Status == 404 }},
		{"413", link("/toolarge/photo.jpg", key), "image/jpeg", func(err error) bool { return errors.As(err, &httpErr) && httpErr.Status == 413 }},
		{"500", link("/broken/photo.jpg", key), "image/jpeg", func(err error) bool { return errors.As(err, &httpErr) && httpErr.Status == 500 }},
		{"huge Content-Length", link("/huge/photo.jpg", key), "image/jpeg", func(err error) bool { return errors.As(err, &tooLarge) && tooLarge.Size == 40<<30 }},
		{"endless body", link("/endless/blob.bin", key), "application/octet-stream", func(err error) bool { return errors.As(err, &tooLarge) }},
		{"html claiming jpeg", link("/lying/photo.jpg", key), "image/jpeg", func(err error) bool {
			return errors.As(err, &mismatch) && strings.HasPrefix(mismatch.Detected, "text/html")
		}},
		{"zip claiming pdf", link("/lying/report.pdf", key), "application/pdf", func(err error) bool {
			return errors.As(err, &mismatch) && mismatch.Detected == "application/zip"
		}},
	}
	for i, c := range cases {
		id := fmt.Sprint("hostile-", i)
		if err := st.PutAttachment(securestore.Attachment{ID: id, MessageID: msgs[0].ID, URL: c.url, MIME: c.mime}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Download(context.Background(), id, nil)
		if !c.check(err) {
			t.Errorf("%s: got %v", c.name, err)
			continue
		}
		_, sizeErr := st.BlobSize(id)
		if err == nil {
			if sizeErr != nil {
				t.Errorf("%s: good download not stored: %v", c.name, sizeErr)
			}
			continue
		}
		t.Logf("%s: %v", c.name, err)
		if !errors.Is(sizeErr, securestore.ErrNotFound) {
			t.Errorf("%s: failed download left a vault file (%v)", c.name, sizeErr)
		}
	}
	ents, _ := os.ReadDir(path + ".vault")
	if len(ents) != 2 {
		t.Fatalf("vault holds %d files, want the 2 good ones", len(ents))
	}
	// A cancelled download stores nothing either.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Download(ctx, "hostile-0", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// Forgetting an attachment (recall) drops the vault copy and the key.
	if err := s.ForgetAttachment("hostile-0"); err != nil {
		t.Fatal(err)
	}
	a, _ := st.Attachment("hostile-0")
	if len(a.Key) != 0 || strings.HasPrefix(a.URL, "aesgcm:") {
		t.Fatalf("key kept after forget: %+v", a.URL)
	}
	if _, err := st.BlobSize("hostile-0"); !errors.Is(err, securestore.ErrNotFound) {
		t.Fatalf("vault copy kept after forget: %v", err)
	}
}

// Incoming links are recognised from the body alone or with an OOB element;
// text that merely mentions a link is not an attachment.
func TestNoteAttachments(t *testing.T) {
	s, _, _ := hostileSession(t)
	link := "aesgcm://files.example/a/b.jpg#" + strings.Repeat("ab", 44)
	for _, c := range []struct {
		body, oob string
		want      bool
	}{
		{link, "", true},
		{link, link, true},
		{"https://files.example/x.pdf", "https://files.example/x.pdf", true},
		{"https://files.example/x.pdf", "", false},
		{"see " + link, "", false},
		{"hello", link, false},
	} {
		st := xmpp.NewElement(xmpp.NSClient, "message", "type", "chat", "from", "a@b/c")
		st.Append(xmpp.NewElement(xmpp.NSClient, "body").SetText(c.body))
		if c.oob != "" {
			st.Append(xmpp.OOBElement(c.oob, ""))
		}
		m := xmpp.ParseMessage(st)
		var sm securestore.Message
		s.noteAttachments(&sm, m)
		if got := sm.Extra[ExtraAttachmentURL] != ""; got != c.want {
			t.Errorf("body %q oob %q: attachment %v", c.body, c.oob, got)
		}
	}
}

// TestAttachmentMetadata: the XEP-0446 <file/> element reaches the
// recipient live, another device of the sender's as a carbon, and a device
// that was off as an archive (MAM) result, so each shows the real name,
// type and size before downloading. A message whose metadata lies about the
// size or the hash of the file behind its link gets a clear error on
// download and nothing is stored.
func TestAttachmentMetadata(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{resource: "phone"})
	desk := startDevice(t, srv, "alice", deviceOptions{resource: "desk"})
	bob := startDevice(t, srv, "bob", deviceOptions{resource: "phone"})

	pdf := readFixture(t, "good_report.pdf")
	const name = "Potassium result – bed 4.pdf"
	m, att, err := alice.session.Upload(context.Background(), bob.jid, bytes.NewReader(pdf), name, "application/pdf", int64(len(pdf)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Extra[ExtraAttachmentMeta] == "" {
		t.Fatal("the stored message keeps no metadata to resend")
	}
	if el := alice.session.stanzaFor(m); el.Child(xmpp.NSFileMetadata, "file") == nil {
		t.Fatalf("the stanza rebuilt for a resend has no <file/>: %s", el)
	}
	check := func(who string, a securestore.Attachment) {
		t.Helper()
		if a.Name != name || a.MIME != "application/pdf" || a.Size != int64(len(pdf)) || !bytes.Equal(a.SHA256, att.SHA256) {
			t.Fatalf("%s: name %q type %q size %d", who, a.Name, a.MIME, a.Size)
		}
	}
	_, live := bob.incomingAttachment(alice.jid, 0)
	check("live", live)

	var carbon securestore.Message
	desk.waitFor("carbon of the attachment", 20*time.Second, func() bool {
		for _, cm := range desk.conversation(bob.jid) {
			if cm.Extra[ExtraAttachmentURL] != "" {
				carbon = cm
				return true
			}
		}
		return false
	})
	atts, err := desk.session.Attachments(carbon)
	if err != nil || len(atts) != 1 {
		t.Fatalf("carbon: %v %v", atts, err)
	}
	check("carbon", atts[0])

	tablet := startDevice(t, srv, "bob", deviceOptions{resource: "tablet", storePath: filepath.Join(t.TempDir(), "bob-tablet.db")})
	_, archived := tablet.incomingAttachment(alice.jid, 0)
	check("archive", archived)

	// Lying metadata on the same (valid) link, sent raw by alice's client.
	lies := []struct {
		what string
		meta xmpp.FileMetadata
	}{
		{"size", xmpp.FileMetadata{Name: "a.pdf", MediaType: "application/pdf", Size: int64(len(pdf)) + 1, SHA256: att.SHA256}},
		{"smaller size", xmpp.FileMetadata{Name: "a.pdf", MediaType: "application/pdf", Size: int64(len(pdf)) - 1}},
		{"hash", xmpp.FileMetadata{Name: "a.pdf", MediaType: "application/pdf", Size: int64(len(pdf)), SHA256: make([]byte, 32)}},
	}
	for i, l := range lies {
		st := xmpp.NewChat(bob.jid, m.Body)
		st.Append(xmpp.OOBElement(m.Body, ""), l.meta.Element())
		if err := alice.session.currentClient().Send(st); err != nil {
			t.Fatal(err)
		}
		_, a := bob.incomingAttachment(alice.jid, i+1)
		if a.Size != l.meta.Size {
			t.Fatalf("%s: row size %d", l.what, a.Size)
		}
		_, err := bob.session.Download(context.Background(), a.ID, nil)
		if !errors.Is(err, ErrAttachmentMismatch) {
			t.Fatalf("lying %s: %v", l.what, err)
		}
		if _, err := bob.store.BlobSize(a.ID); !errors.Is(err, securestore.ErrNotFound) {
			t.Fatalf("lying %s: something was stored (%v)", l.what, err)
		}
		t.Logf("lying %s: %v", l.what, err)
	}
	// The honest one still downloads.
	if _, err := bob.session.Download(context.Background(), live.ID, nil); err != nil {
		t.Fatal(err)
	}
}

// Metadata that cannot be used safely is ignored: the message is kept and
// shown with what its link says.
func TestNoteAttachmentsMetadata(t *testing.T) {
	s, _, _ := hostileSession(t)
	link := "aesgcm://files.example/a/3zue63usms3hwhdn.pdf#" + strings.Repeat("ab", 44)
	for _, c := range []struct {
		file     string
		wantMeta bool
	}{
		{`<file xmlns='urn:xmpp:file:metadata:0'><name>Bed 4 ECG.pdf</name><size>10</size></file>`, true},
		{`<file-sharing xmlns='urn:xmpp:sfs:0'><file xmlns='urn:xmpp:file:metadata:0'><name>Bed 4 ECG.pdf</name></file></file-sharing>`, true},
		{`<file xmlns='urn:xmpp:file:metadata:0'><name>../../Bed 4 ECG.pdf</name></file>`, false},
		{`<file xmlns='urn:xmpp:file:metadata:0'><size>-5</size></file>`, false},
		{`<file xmlns='urn:xmpp:file:metadata:0'/><file xmlns='urn:xmpp:file:metadata:0'/>`, false},
	} {
		raw := `<message xmlns='jabber:client' type='chat' from='a@b/c'><body>` + link + `</body>` + c.file + `</message>`
		st, err := xmpp.DecodeElement([]byte(raw), xmpp.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var sm securestore.Message
		s.noteAttachments(&sm, xmpp.ParseMessage(st))
		if sm.Extra[ExtraAttachmentURL] != link {
			t.Errorf("%s: the attachment was not noted", c.file)
		}
		if got := sm.Extra[ExtraAttachmentMeta] != ""; got != c.wantMeta {
			t.Errorf("%s: metadata kept %v", c.file, got)
		}
	}
}

// A declared size or hash the file does not match, or a declared size over
// the limit, is refused before anything is stored; a failed request's error
// quotes neither the URL's path nor its key.
func TestAttachmentDownloadDeclared(t *testing.T) {
	photo := readFixture(t, "good_photo.jpg")
	key, iv := make([]byte, 32), make([]byte, 12)
	rand.Read(key)
	rand.Read(iv)
	enc := sealFile(key, iv, photo)
	mux := http.NewServeMux()
	mux.HandleFunc("/f/x.jpg", func(w http.ResponseWriter, r *http.Request) { w.Write(enc) })
	mux.HandleFunc("/chunked/x.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Write(enc[:10])
		w.(http.Flusher).Flush()
		w.Write(enc[10:])
	})
	mux.HandleFunc("/redirect/Jane-Doe-HIV.jpg", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://files.example/Jane-Doe-HIV.jpg", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	s, st, _ := hostileSession(t)
	s.uploads.max = 2 << 20
	msgs, err := st.AppendMessages([]securestore.Message{{
		ConversationID: "doctor@rounds.test", From: "doctor@rounds.test/phone", Direction: securestore.Incoming,
		Body: "x", OriginID: "o1", Timestamp: time.Now(), ReceivedAt: time.Now(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	link := func(base, p string) string {
		u, err := xmpp.NewAESGCMURL(base+p, iv, key)
		if err != nil {
			t.Fatal(err)
		}
		return u.String()
	}
	good := sha256.Sum256(photo)
	n := int64(len(photo))
	var tooLarge *TooLargeError
	for i, c := range []struct {
		what  string
		url   string
		size  int64
		sha   []byte
		check func(error) bool
	}{
		{"honest", link(srv.URL, "/f/x.jpg"), n, good[:], func(err error) bool { return err == nil }},
		{"honest, chunked", link(srv.URL, "/chunked/x.jpg"), n, good[:], func(err error) bool { return err == nil }},
		{"size vs Content-Length", link(srv.URL, "/f/x.jpg"), n + 1, nil, func(err error) bool { return errors.Is(err, ErrAttachmentMismatch) }},
		{"size, chunked, short", link(srv.URL, "/chunked/x.jpg"), n + 1, nil, func(err error) bool { return errors.Is(err, ErrAttachmentMismatch) }},
		{"size, chunked, long", link(srv.URL, "/chunked/x.jpg"), n - 1, nil, func(err error) bool { return errors.Is(err, ErrAttachmentMismatch) }},
		{"hash", link(srv.URL, "/f/x.jpg"), n, make([]byte, 32), func(err error) bool { return errors.Is(err, ErrAttachmentMismatch) }},
		{"over the limit", link(srv.URL, "/f/x.jpg"), 3 << 20, nil, func(err error) bool { return errors.As(err, &tooLarge) && tooLarge.Size == 3<<20+16 }},
	} {
		id := fmt.Sprint("declared-", i)
		if err := st.PutAttachment(securestore.Attachment{ID: id, MessageID: msgs[0].ID, URL: c.url, MIME: "image/jpeg", Size: c.size, SHA256: c.sha}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Download(context.Background(), id, nil)
		if !c.check(err) {
			t.Errorf("%s: %v", c.what, err)
			continue
		}
		_, sizeErr := st.BlobSize(id)
		if (err == nil) != (sizeErr == nil) {
			t.Errorf("%s: err %v, vault %v", c.what, err, sizeErr)
		}
	}

	// Failed requests: nothing listens; a redirect to plain http.
	dead := link("http://127.0.0.1:1", "/Jane-Doe-HIV/result.jpg")
	for i, u := range []string{dead, link(srv.URL, "/redirect/Jane-Doe-HIV.jpg")} {
		id := fmt.Sprint("failed-", i)
		if err := st.PutAttachment(securestore.Attachment{ID: id, MessageID: msgs[0].ID, URL: u, MIME: "image/jpeg"}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Download(context.Background(), id, nil)
		if err == nil {
			t.Fatalf("%s: downloaded", id)
		}
		msg := err.Error()
		if strings.Contains(msg, "Jane") || strings.Contains(msg, "HIV") || strings.Contains(msg, "aesgcm") ||
			strings.Contains(msg, hex.EncodeToString(key)) || strings.Contains(msg, hex.EncodeToString(iv)) || strings.Contains(msg, "http://") {
			t.Errorf("%s: error quotes the URL: %s", id, msg)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			t.Errorf("%s: a *url.Error is still in the chain", id)
		}
		t.Logf("%s: %v", id, err)
	}
	var ne net.Error
	if _, err := s.Download(context.Background(), "failed-0", nil); !errors.As(err, &ne) && !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refused connection lost its type: %v", err)
	}
}
