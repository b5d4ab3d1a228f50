package sync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"rounds/internal/testpeer"
	"rounds/internal/testserver"
)

// TestAttachmentInteropSlixmpp: a client Rounds did not write (slixmpp, with
// its own XEP-0454 code) downloads and decrypts our upload with the key from
// the link, and we download and decrypt one it uploaded.
func TestAttachmentInteropSlixmpp(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "carol")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	carol, err := testpeer.Start(ctx, dir, testpeer.Options{
		JID: srv.JID("carol"), Password: testserver.Password, Addr: srv.C2SAddr(), CAFile: srv.CertFile(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer carol.Close()
	alice := startDevice(t, srv, "alice", deviceOptions{})

	// Ours → slixmpp.
	photo := readFixture(t, "good_photo.jpg")
	m, _, err := alice.session.Upload(ctx, srv.JID("carol"), bytes.NewReader(photo), "heel.jpg", "image/jpeg", int64(len(photo)), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := carol.Next(ctx, func(e testpeer.Event) bool { return e.Event == "message" && e.Body == m.Body })
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "from-rounds.jpg")
	ev, err := carol.Download(ctx, got.Body, out)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(photo)
	if ev.SHA256 != hex.EncodeToString(sum[:]) || ev.Count != len(photo) {
		t.Fatalf("slixmpp decrypted %d bytes, sha256 %s", ev.Count, ev.SHA256)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, photo) {
		t.Fatal("slixmpp's plaintext differs")
	}

	// slixmpp → ours.
	pdfPath, _ := filepath.Abs(filepath.Join("testdata", "good_report.pdf"))
	pdf := readFixture(t, "good_report.pdf")
	up, err := carol.Upload(ctx, "upload."+srv.Domain, alice.jid, pdfPath, "report.pdf")
	if err != nil {
		t.Fatal(err)
	}
	in, att := alice.incomingAttachment(srv.JID("carol"), 0)
	if in.Body != up.URL || att.MIME != "application/pdf" {
		t.Fatalf("received %q as %s", in.Body, att.MIME)
	}
	if _, err := alice.session.Download(ctx, att.ID, nil); err != nil {
		t.Fatal(err)
	}
	if b := readBlob(t, alice.store, att.ID); !bytes.Equal(b, pdf) {
		t.Fatal("our plaintext of slixmpp's upload differs")
	}
}
