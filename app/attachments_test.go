package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image/jpeg"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/media"
	"rounds/securestore"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// engineFixture reads one of the engine's test files (sync/testdata): the
// files both layers check are kept once, below, where the engine uses them.
func engineFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "sync", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// leakNeedles are byte strings whose presence in a file would mean
// plaintext leaked: a marker and 48-byte windows from start, middle, end.
func leakNeedles(data []byte, marker string) [][]byte {
	out := [][]byte{}
	if marker != "" {
		out = append(out, []byte(marker))
	}
	for _, off := range []int{0, len(data) / 3, len(data) / 2, len(data) - 48} {
		if off >= 0 && off+48 <= len(data) {
			out = append(out, data[off:off+48])
		}
	}
	return out
}

// scanNoPlaintext fails if any file under dir holds a needle; it returns
// how many files it read.
func scanNoPlaintext(t testing.TB, what, dir string, needles [][]byte) int {
	t.Helper()
	files := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
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
				t.Errorf("%s: plaintext (needle %d, %q…) in %s", what, i, n[:min(len(n), 12)], p)
			}
		}
		return nil
	})
	return files
}

// progressLog records the last progress report.
type progressLog struct {
	mu          gosync.Mutex
	calls       int
	done, total int64
}

func (p *progressLog) fn(done, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	p.done, p.total = done, total
}

func (p *progressLog) last() (int, int64, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls, p.done, p.total
}

// attachmentRowOf waits until conv on d shows message id with attachments.
func (d *device) attachmentRowOf(conv string, match func(MessageRow) bool) MessageRow {
	d.t.Helper()
	var found MessageRow
	waitFor(d.t, d.jid+" attachment row", 30*time.Second, func() bool {
		rows, err := d.c.Messages(conv, 50)
		if err != nil {
			return false
		}
		for _, r := range rows {
			if len(r.Attachments) > 0 && match(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

func vaultFiles(t testing.TB, d *device) []string {
	t.Helper()
	st, err := d.c.unlocked()
	if err != nil {
		t.Fatal(err)
	}
	stores := storeFilesIn(t, d.cfg.DataDir)
	if len(stores) != 1 {
		t.Fatalf("store files %v", stores)
	}
	_ = st
	ents, _ := os.ReadDir(stores[0] + ".vault")
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func readAll(t testing.TB, c *Client, id string) []byte {
	t.Helper()
	r, _, err := c.OpenAttachment(id)
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

// TestAttachmentsPhotoAndPDF is issue 6's "done means" at the app level: a
// photo and a PDF go from alice's Client to bob's through the real Prosody
// upload component, with progress, thumbnails and receipts; the photo
// arrives shrunk, upright and without its EXIF/GPS block; and neither the
// server's upload storage nor either device's data directory holds
// plaintext of either file (or their names).
func TestAttachmentsPhotoAndPDF(t *testing.T) {
	// Every temporary file made from here on (ours, pdftoppm's, Prosody's)
	// lands in tmp, which is scanned at the end.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	conv, err := alice.c.StartChat(bob.jid)
	if err != nil {
		t.Fatal(err)
	}

	limit, err := alice.c.UploadLimit()
	if err != nil || limit != 10<<20-16 {
		t.Fatalf("UploadLimit = %d, %v; want Prosody's 10 MiB less the 16-byte tag", limit, err)
	}

	photo := fixture(t, "good_exif_gps.jpg")
	pdf := engineFixture(t, "good_report.pdf")
	if !media.ReadExif(photo).GPS || media.ReadExif(photo).Orientation != 6 {
		t.Fatalf("fixture lost its EXIF: %+v", media.ReadExif(photo))
	}
	const photoName, pdfName = "Wound left heel bed 12.jpg", "Potassium result.pdf"

	// Photo.
	var up progressLog
	photoID, err := alice.c.SendFile(context.Background(), conv, photoName, bytes.NewReader(photo), int64(len(photo)), AttachOptions{}, up.fn)
	if err != nil {
		t.Fatalf("SendFile photo: %v", err)
	}
	calls, done, total := up.last()
	if calls < 2 || done != total || total <= 16 || total >= int64(len(photo)) {
		t.Fatalf("upload progress: %d calls, ended %d/%d (original %d bytes; want a smaller re-encoded file)", calls, done, total, len(photo))
	}
	// PDF.
	var upPDF progressLog
	pdfID, err := alice.c.SendFile(context.Background(), conv, pdfName, bytes.NewReader(pdf), int64(len(pdf)), AttachOptions{}, upPDF.fn)
	if err != nil {
		t.Fatalf("SendFile pdf: %v", err)
	}
	if _, done, total := upPDF.last(); done != int64(len(pdf))+16 || total != done {
		t.Fatalf("pdf upload progress ended %d/%d", done, total)
	}

	// The sender's rows: attachments from the vault, no link shown.
	sentPhoto := alice.attachmentRowOf(conv, func(r MessageRow) bool { return r.ID == photoID })
	a := sentPhoto.Attachments[0]
	if sentPhoto.Body != "" || a.Name != photoName || a.MIME != "image/jpeg" || a.Kind != AttachmentImage || !a.Downloaded {
		t.Fatalf("sender's photo row: body %q, %+v", sentPhoto.Body, a)
	}
	uploaded := readAll(t, alice.c, a.ID)
	if media.ReadExif(uploaded).Found || bytes.Contains(uploaded, []byte("Exif\x00\x00")) || bytes.Contains(uploaded, []byte("GPS-MARKER")) {
		t.Fatal("the uploaded photo still carries EXIF")
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(uploaded))
	if err != nil || cfg.Width != 1365 || cfg.Height != MaxImageSide {
		t.Fatalf("uploaded photo %dx%d, %v; want upright 1365x2048 from 3000x2000 turned by orientation 6", cfg.Width, cfg.Height, err)
	}
	img, _ := jpeg.Decode(bytes.NewReader(uploaded))
	if r, g, _, _ := img.At(1365-40, 40).RGBA(); r>>8 < 180 || g>>8 > 80 {
		t.Fatalf("the red corner is not top-right after turning: %d %d", r>>8, g>>8)
	}
	thumb, err := alice.c.Thumbnail(a.ID, 256)
	if err != nil || thumb.Bounds().Dx() != 170 || thumb.Bounds().Dy() != 256 {
		t.Fatalf("sender's thumbnail %v, %v", thumb.Bounds(), err)
	}
	if inbox, _ := alice.row(conv); inbox.Preview != "PDF: "+pdfName {
		t.Fatalf("inbox preview %q", inbox.Preview)
	}

	// The recipient: rows appear with attachments not yet downloaded.
	inPhoto := bob.attachmentRowOf(alice.jid, func(r MessageRow) bool { return r.Attachments[0].Kind == AttachmentImage })
	inPDF := bob.attachmentRowOf(alice.jid, func(r MessageRow) bool { return r.Attachments[0].Kind == AttachmentPDF })
	for _, r := range []MessageRow{inPhoto, inPDF} {
		if r.Body != "" || r.Attachments[0].Downloaded {
			t.Fatalf("incoming row: body %q (the link must not show), %+v", r.Body, r.Attachments[0])
		}
	}
	// The sender's XEP-0446 metadata names the files before any download.
	if a := inPDF.Attachments[0]; a.Name != pdfName || a.MIME != "application/pdf" || a.Size != int64(len(pdf)) {
		t.Fatalf("incoming PDF before download: %+v", a)
	}
	if a := inPhoto.Attachments[0]; a.Name != photoName || a.Size == 0 {
		t.Fatalf("incoming photo before download: %+v", a)
	}
	if _, err := bob.c.Thumbnail(inPhoto.Attachments[0].ID, 256); !errors.Is(err, ErrNotDownloaded) {
		t.Fatalf("thumbnail before download: %v", err)
	}
	var down progressLog
	got, err := bob.c.Download(context.Background(), inPhoto.Attachments[0].ID, down.fn)
	if err != nil {
		t.Fatalf("download photo: %v", err)
	}
	if _, done, total := down.last(); done != int64(len(uploaded))+16 || total != done || got.Size != int64(len(uploaded)) || !got.Downloaded {
		t.Fatalf("download progress %d/%d, row %+v", done, total, got)
	}
	if b := readAll(t, bob.c, got.ID); !bytes.Equal(b, uploaded) {
		t.Fatal("bob's photo differs from what alice uploaded")
	}
	if th, err := bob.c.Thumbnail(got.ID, 128); err != nil || th.Bounds().Dy() != 128 {
		t.Fatalf("recipient's thumbnail: %v", err)
	}
	gotPDF, err := bob.c.Download(context.Background(), inPDF.Attachments[0].ID, nil)
	if err != nil || gotPDF.Kind != AttachmentPDF {
		t.Fatalf("download pdf: %+v %v", gotPDF, err)
	}
	if b := readAll(t, bob.c, gotPDF.ID); !bytes.Equal(b, pdf) {
		t.Fatal("bob's PDF differs")
	}
	if _, err := bob.c.ViewImage(got.ID); err != nil {
		t.Fatal(err)
	}
	if pdfRenderer() != "" {
		if _, err := bob.c.PDFPreview(gotPDF.ID, 400); err != nil {
			t.Fatal(err)
		}
	}
	if r := bob.attachmentRowOf(alice.jid, func(r MessageRow) bool { return r.ID == inPhoto.ID }); !r.Attachments[0].Downloaded {
		t.Fatal("row not marked downloaded")
	}

	// Receipts: delivered, then read once bob has seen them.
	waitFor(t, "delivered", 20*time.Second, func() bool {
		r := alice.attachmentRowOf(conv, func(r MessageRow) bool { return r.ID == pdfID })
		return r.Receipt.State >= securestore.ReceiptDelivered
	})
	if err := bob.c.MarkShown(alice.jid, inPDF.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "read", 20*time.Second, func() bool {
		r := alice.attachmentRowOf(conv, func(r MessageRow) bool { return r.ID == pdfID })
		return r.Receipt.State == securestore.ReceiptRead
	})

	// No plaintext on the server or on either device.
	var needles [][]byte
	needles = append(needles, leakNeedles(photo, "GPS-MARKER")...)
	needles = append(needles, leakNeedles(uploaded, "")...)
	needles = append(needles, leakNeedles(pdf, "PLAINTEXT-PDF-MARKER")...)
	if n := scanNoPlaintext(t, "server", srv.Dir, needles); n == 0 {
		t.Fatal("nothing scanned under the server's directory")
	}
	// The names travel in the messages (XEP-0446), so the server's message
	// archive holds them like every message; the upload storage (and so
	// the HTTP server's logs and paths) never does.
	names := [][]byte{[]byte(photoName), []byte(pdfName)}
	shares := 0
	filepath.WalkDir(srv.Dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "http_file_share") {
			shares++
			b, _ := os.ReadFile(p)
			for _, n := range names {
				if bytes.Contains(b, n) || strings.Contains(p, string(n)) {
					t.Errorf("a file name reached the upload storage: %s", p)
				}
			}
		}
		return nil
	})
	if shares < 2 {
		t.Fatalf("%d files in the server's http_file_share storage; the scan missed the uploads", shares)
	}
	if n := len(vaultFiles(t, bob)); n != 2 {
		t.Fatalf("bob's vault holds %d files, want 2", n)
	}
	alice.c.SignOut()
	bob.c.SignOut()
	for _, d := range []*device{alice, bob} {
		if n := scanNoPlaintext(t, d.jid, d.cfg.DataDir, append(needles, names...)); n < 3 {
			t.Fatalf("%s: only %d files scanned", d.jid, n)
		}
	}
	// Thumbnails, the viewer and the PDF preview wrote nothing in clear:
	// neither content anywhere in the temp dir, nor names outside the
	// server's directory (its archive holds them, above).
	scanNoPlaintext(t, "temp dir", tmp, needles)
	ents, _ := os.ReadDir(tmp)
	for _, e := range ents {
		if p := filepath.Join(tmp, e.Name()); !strings.HasPrefix(srv.Dir+string(filepath.Separator), p+string(filepath.Separator)) {
			scanNoPlaintext(t, "temp dir", p, names)
		}
	}
}

// Where policy lets notifications show text, a file's message shows as
// "Attachment"/"Photo", never its link (which carries the file's key).
func TestAttachmentNotificationHidesLink(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{Policy: Policy{Preview: PreviewContent}})
	if err := bob.c.SetNotificationPreview(PreviewContent); err != nil {
		t.Fatal(err)
	}
	pdf := engineFixture(t, "good_report.pdf")
	if _, err := alice.c.SendFile(context.Background(), bob.jid, "result.pdf", bytes.NewReader(pdf), int64(len(pdf)), AttachOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "notification", 20*time.Second, func() bool { return bob.notifier.countFor(alice.jid) > 0 })
	for _, n := range bob.notifier.notifications() {
		if strings.Contains(n.Body, "aesgcm") || strings.Contains(n.Body, "://") || n.Body == "" {
			t.Fatalf("notification body %q", n.Body)
		}
	}
}

// With Original the photo goes byte for byte, EXIF and all (the user chose).
func TestSendFileOriginal(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	alice := signIn(t, srv, "alice", Config{})
	photo := fixture(t, "good_exif_gps.jpg")
	id, err := alice.c.SendFile(context.Background(), srv.JID("bob"), "IMG_0001.JPG", bytes.NewReader(photo), int64(len(photo)), AttachOptions{Original: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := alice.attachmentRowOf(srv.JID("bob"), func(r MessageRow) bool { return r.ID == id })
	if b := readAll(t, alice.c, r.Attachments[0].ID); !bytes.Equal(b, photo) {
		t.Fatal("original photo was changed")
	}
}

// Bad input: a clear error each, no message, nothing left in the vault.
func TestSendFileRefused(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{UploadSizeLimit: 64 << 10}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	conv := srv.JID("bob")
	send := func(name string, data []byte, ctx context.Context, progress func(int64, int64)) error {
		_, err := alice.c.SendFile(ctx, conv, name, bytes.NewReader(data), int64(len(data)), AttachOptions{}, progress)
		return err
	}
	html := engineFixture(t, "fail_html_claiming_jpeg.jpg")
	if err := send("photo.jpg", html, context.Background(), nil); !errors.Is(err, ErrFileTypeMismatch) {
		t.Fatalf("html named .jpg: %v", err)
	}
	if err := send("report.pdf", fixture(t, "good_exif_gps.jpg"), context.Background(), nil); !errors.Is(err, ErrFileTypeMismatch) {
		t.Fatalf("jpeg named .pdf: %v", err)
	}
	if err := send("empty.txt", nil, context.Background(), nil); !errors.Is(err, ErrEmptyFile) {
		t.Fatalf("empty: %v", err)
	}
	big := make([]byte, 100<<10)
	rand.Read(big)
	err := send("scan.bin", big, context.Background(), nil)
	var tl *UploadTooLargeError
	if !errors.Is(err, ErrUploadTooLarge) || !errors.As(err, &tl) || tl.Max != 64<<10-16 {
		t.Fatalf("over the limit: %v", err)
	}
	// A picture that says it has a billion pixels is not decoded.
	if err := send("huge.png", hugePNGHeader(), context.Background(), nil); !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("huge png: %v", err)
	}
	// Cancelled half-way: no message, nothing in the vault.
	mid := make([]byte, 60<<10)
	rand.Read(mid)
	ctx, cancel := context.WithCancel(context.Background())
	err = send("ecg.bin", mid, ctx, func(done, total int64) {
		if done > 0 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled upload: %v", err)
	}
	if rows, _ := alice.c.Messages(conv, 10); len(rows) != 0 {
		t.Fatalf("%d messages after refused sends", len(rows))
	}
	if v := vaultFiles(t, alice); len(v) != 0 {
		t.Fatalf("vault holds %v after refused sends", v)
	}
}

// hugePNGHeader is a PNG signature and IHDR announcing 40000×40000 pixels.
func hugePNGHeader() []byte {
	ihdr := []byte("IHDR\x00\x00\x9c\x40\x00\x00\x9c\x40\x08\x02\x00\x00\x00")
	b := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d"), ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// Download can be cancelled; nothing half-written stays, and a later
// download works.
func TestDownloadCancelThenRetry(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	data := make([]byte, 3<<20)
	rand.Read(data)
	if _, err := alice.c.SendFile(context.Background(), bob.jid, "monitor-export.bin", bytes.NewReader(data), int64(len(data)), AttachOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	row := bob.attachmentRowOf(alice.jid, func(MessageRow) bool { return true })
	ctx, cancel := context.WithCancel(context.Background())
	_, err := bob.c.Download(ctx, row.Attachments[0].ID, func(done, total int64) {
		if done > 64<<10 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled download: %v", err)
	}
	if _, _, err := bob.c.OpenAttachment(row.Attachments[0].ID); !errors.Is(err, ErrNotDownloaded) {
		t.Fatalf("after cancel: %v", err)
	}
	if v := vaultFiles(t, bob); len(v) != 0 {
		t.Fatalf("vault after cancel: %v", v)
	}
	if _, err := bob.c.Download(context.Background(), row.Attachments[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, bob.c, row.Attachments[0].ID), data) {
		t.Fatal("retried download differs")
	}
}

// Thumbnails live in memory only: dropped at lock, gone with the file when
// retention purges it (securestore.Purge removes vault files too).
func TestAttachmentsRetentionAndLock(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	// The clock runs 40 days ahead of the server, retention is 7 days: once
	// purge runs, everything sent now is past retention.
	clock := newFakeClock()
	clock.now = time.Now().Add(40 * 24 * time.Hour)
	alice := signIn(t, srv, "alice", Config{Clock: clock, Policy: Policy{Retention: 7 * 24 * time.Hour}})
	photo := fixture(t, "good_exif_gps.jpg")
	id, err := alice.c.SendFile(context.Background(), srv.JID("bob"), "wound.jpg", bytes.NewReader(photo), int64(len(photo)), AttachOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	row := alice.attachmentRowOf(srv.JID("bob"), func(r MessageRow) bool { return r.ID == id })
	attID := row.Attachments[0].ID
	if _, err := alice.c.Thumbnail(attID, 64); err != nil {
		t.Fatal(err)
	}
	if alice.c.att.cachedThumbnails() != 1 {
		t.Fatal("thumbnail not cached")
	}
	alice.c.Lock()
	if n := alice.c.att.cachedThumbnails(); n != 0 {
		t.Fatalf("%d thumbnails in memory after lock", n)
	}
	// Unlocking runs the retention purge: the file goes with its message.
	if err := alice.c.Unlock(context.Background(), testPIN); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "purge at unlock", 20*time.Second, func() bool { return len(vaultFiles(t, alice)) == 0 })
	if _, _, err := alice.c.OpenAttachment(attID); err == nil {
		t.Fatal("attachment readable after purge")
	}
	if _, err := alice.c.Thumbnail(attID, 64); err == nil {
		t.Fatal("thumbnail served after purge")
	}

	// The daily purge while unlocked: a thumbnail in memory goes too.
	id, err = alice.c.SendFile(context.Background(), srv.JID("bob"), "wound2.jpg", bytes.NewReader(photo), int64(len(photo)), AttachOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	attID = alice.attachmentRowOf(srv.JID("bob"), func(r MessageRow) bool { return r.ID == id }).Attachments[0].ID
	if _, err := alice.c.Thumbnail(attID, 64); err != nil {
		t.Fatal(err)
	}
	st, _ := alice.c.unlocked()
	alice.c.purge(st)
	if v := vaultFiles(t, alice); len(v) != 0 {
		t.Fatalf("vault after purge: %v", v)
	}
	if _, err := alice.c.Thumbnail(attID, 64); err == nil {
		t.Fatal("thumbnail served after purge")
	}
	if alice.c.att.cachedThumbnails() != 0 {
		t.Fatal("cached thumbnail outlived the purged file")
	}
}

// Recall discards the file's key and vault copy on both sides
// (attachmentService.discard, called by recall.go, uses sync.ForgetAttachment).
func TestAttachmentRecall(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	pdf := engineFixture(t, "good_report.pdf")
	id, err := alice.c.SendFile(context.Background(), bob.jid, "result.pdf", bytes.NewReader(pdf), int64(len(pdf)), AttachOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	in := bob.attachmentRowOf(alice.jid, func(MessageRow) bool { return true })
	if _, err := bob.c.Download(context.Background(), in.Attachments[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	photo := fixture(t, "good_exif_gps.jpg")
	pid, err := alice.c.SendFile(context.Background(), bob.jid, "wound.jpg", bytes.NewReader(photo), int64(len(photo)), AttachOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	photoAtt := alice.attachmentRowOf(bob.jid, func(r MessageRow) bool { return r.ID == pid }).Attachments[0].ID
	if _, err := alice.c.Thumbnail(photoAtt, 64); err != nil || alice.c.att.cachedThumbnails() != 1 {
		t.Fatalf("thumbnail before recall: %v", err)
	}
	if err := alice.c.Recall(bob.jid, pid); err != nil {
		t.Fatal(err)
	}
	if n := alice.c.att.cachedThumbnails(); n != 0 {
		t.Fatalf("%d thumbnails in memory after the photo was recalled", n)
	}
	waitFor(t, "bob got the photo", 20*time.Second, func() bool {
		rows, _ := bob.c.Messages(alice.jid, 10)
		return len(rows) == 2
	})
	if err := alice.c.Recall(bob.jid, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "recall reaches bob", 20*time.Second, func() bool {
		rows, _ := bob.c.Messages(alice.jid, 10)
		for _, r := range rows {
			if r.Recalled.IsZero() || len(r.Attachments) != 0 {
				return false
			}
		}
		return len(rows) == 2
	})
	// The key and vault copy go right after the tombstone is stored.
	waitFor(t, "bob's vault emptied", 20*time.Second, func() bool { return len(vaultFiles(t, bob)) == 0 })
	if _, _, err := bob.c.OpenAttachment(in.Attachments[0].ID); err == nil {
		t.Fatal("bob can still open the recalled file")
	}
	if _, err := bob.c.Download(context.Background(), in.Attachments[0].ID, nil); err == nil {
		t.Fatal("bob can download the recalled file again")
	}
	if v := vaultFiles(t, bob); len(v) != 0 {
		t.Fatalf("bob's vault after recall: %v", v)
	}
}

func TestExportForPlatformAndPDFPreview(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice")
	alice := signIn(t, srv, "alice", Config{})
	pdf := engineFixture(t, "good_report.pdf")
	id, err := alice.c.SendFile(context.Background(), srv.JID("bob"), "Potassium result.pdf", bytes.NewReader(pdf), int64(len(pdf)), AttachOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	attID := alice.attachmentRowOf(srv.JID("bob"), func(r MessageRow) bool { return r.ID == id }).Attachments[0].ID

	p, cleanup, err := alice.c.ExportForPlatform(attID)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 || filepath.Base(p) != "attachment.pdf" {
		t.Fatalf("exported %s: %v %v", p, fi.Mode(), err)
	}
	if di, _ := os.Stat(filepath.Dir(p)); di.Mode().Perm() != 0o700 {
		t.Fatalf("export dir mode %v", di.Mode())
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, pdf) {
		t.Fatal("exported bytes differ")
	}
	cleanup()
	if _, err := os.Stat(filepath.Dir(p)); !os.IsNotExist(err) {
		t.Fatal("cleanup left the export directory")
	}

	if pdfRenderer() == "" {
		// make test installs poppler-utils (scripts/install-deps.sh): in CI
		// a missing renderer is a failure, not a skipped check.
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm not installed: scripts/install-deps.sh test installs poppler-utils")
		}
		t.Log("pdftoppm not installed: page-1 preview not exercised")
	} else {
		img, err := alice.c.PDFPreview(attID, 300)
		if err != nil || img.Bounds().Dy() != 300 {
			t.Fatalf("PDF preview: %v", err)
		}
		if _, err := alice.c.PDFPreview(attID+"x", 300); err == nil {
			t.Fatal("preview of an unknown attachment")
		}
	}
	restore := pdfRenderer
	pdfRenderer = func() string { return "" }
	defer func() { pdfRenderer = restore }()
	if _, err := alice.c.PDFPreview(attID, 300); !errors.Is(err, ErrNoPDFPreview) {
		t.Fatalf("without a renderer: %v", err)
	}
	if _, err := alice.c.Thumbnail(attID, 64); !errors.Is(err, ErrNotImage) {
		t.Fatalf("thumbnail of a PDF: %v", err)
	}
}

func TestFileType(t *testing.T) {
	jpg := fixture(t, "good_exif_gps.jpg")[:512]
	for _, c := range []struct {
		name       string
		head       []byte
		mime, want string
		err        error
	}{
		{"a.jpg", jpg, "image/jpeg", "a.jpg", nil},
		{"IMG", jpg, "image/jpeg", "IMG.jpg", nil},
		{"a.pdf", jpg, "", "a.pdf", ErrFileTypeMismatch},
		{"notes.txt", []byte("K+ 6.1"), "text/plain", "notes.txt", nil},
		{"notes.txt", []byte{0, 1, 2, 0xff}, "", "notes.txt", ErrFileTypeMismatch},
		{"blob", []byte{0, 1, 2}, "application/octet-stream", "blob", nil},
		// The receivers' list (media's) binds the sender too: an ".mp3"
		// that is text was sent before and refused by every receiver.
		{"handover.mp3", []byte("K+ 6.1, recheck at 14:00"), "", "handover.mp3", ErrFileTypeMismatch},
	} {
		mt, name, err := fileType(c.name, c.head)
		if !errors.Is(err, c.err) || (err == nil && (mt != c.mime || name != c.want)) {
			t.Errorf("%s: %q %q %v", c.name, mt, name, err)
		}
	}
	if got := cleanFileName("C:\\Users\\kim\\Desktop\\scan\x07.pdf"); got != "scan.pdf" {
		t.Errorf("cleanFileName: %q", got)
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{12: "12 bytes", 820_400: "820 KB", 4_240_000: "4.2 MB", 52_000_000: "52 MB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("%d: %q", n, got)
		}
	}
}
