package ui

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
	"rounds/internal/testserver"
)

// TestFilesEndToEnd wires two real Clients on a real Prosody to two
// Controllers: alice picks a photo and a PDF from her composer (the sheet
// shows the server's limit first), each upload shows progress and ends as a
// bubble (the photo with its thumbnail); bob's conversation shows both, the
// photo downloads by itself into a thumbnail, the PDF downloads on a tap
// and opens in the viewer; alice's ticks reach "read".
func TestFilesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prosody")
	}
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	fa := test.NewTempApp(t)
	signIn := func(user string) (*app.Client, *Controller) { return signInController(t, srv, fa, user) }
	alice, aliceUI := signIn("alice")
	bob, bobUI := signIn("bob")
	open := func(cl *app.Client, ui *Controller, conv string) *ConversationView {
		return openRealConversation(t, cl, ui, conv)
	}
	conv, err := alice.StartChat(srv.JID("bob"))
	if err != nil {
		t.Fatal(err)
	}
	v := open(alice, aliceUI, conv)
	if !v.att.button.Visible() {
		t.Fatal("no attach button in the real shell")
	}

	read := func(name string) []byte {
		dir := "app" // the JPEG with GPS is app's (EXIF stripping); the PDF is the engine's
		if name == "good_report.pdf" {
			dir = "sync"
		}
		b, err := os.ReadFile(filepath.Join("..", dir, "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	send := func(name string, data []byte) {
		t.Helper()
		test.Tap(v.att.button)
		if v.att.popup == nil {
			t.Fatal("no attach sheet")
		}
		sheet := fyne.CanvasObject(v.att.popup.Content)
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(labelsIn(sheet), "Files up to 10 MB"); time.Sleep(20 * time.Millisecond) {
			drainUI()
			if time.Now().After(deadline) {
				t.Fatalf("the sheet does not show the server's limit: %q", labelsIn(sheet))
			}
		}
		v.att.pick = func(got func(string, io.ReadCloser, int64)) {
			got(name, io.NopCloser(bytes.NewReader(data)), int64(len(data)))
		}
		test.Tap(buttonIn(sheet, "Choose file…"))
		if len(findAll[*widget.ProgressBar](v.att.uploads)) != 1 {
			t.Fatalf("%s: no progress bar while sending", name)
		}
		eventually(t, 20*time.Second, name+" sent", func() bool { return len(v.att.uploads.Objects) == 0 })
		if v.sendErr.Visible() {
			t.Fatalf("%s: %s", name, v.sendErr.Text)
		}
	}
	send("Wound left heel.jpg", read("good_exif_gps.jpg"))
	send("Potassium result.pdf", read("good_report.pdf"))

	kindCell := func(v *ConversationView, k app.AttachmentKind) *attachmentCellView {
		for _, c := range findAll[*attachmentCellView](v) {
			if c.a.Kind == k {
				return c
			}
		}
		return nil
	}
	eventually(t, 20*time.Second, "alice's photo bubble with its thumbnail", func() bool {
		c := kindCell(v, app.AttachmentImage)
		return c != nil && c.img.Image != nil && c.img.Visible()
	})

	bv := open(bob, bobUI, srv.JID("alice"))
	eventually(t, 30*time.Second, "bob's photo: downloaded by itself, thumbnail shown", func() bool {
		c := kindCell(bv, app.AttachmentImage)
		return c != nil && c.img.Image != nil && c.img.Visible()
	})
	var pdf *attachmentCellView
	eventually(t, 20*time.Second, "bob's PDF chip offers Download", func() bool {
		pdf = kindCell(bv, app.AttachmentPDF)
		return pdf != nil && pdf.action.Text == "Download"
	})
	test.Tap(pdf.action)
	eventually(t, 20*time.Second, "bob's PDF downloaded", func() bool {
		pdf = kindCell(bv, app.AttachmentPDF)
		return pdf != nil && pdf.action.Text == "Open"
	})
	shot := func(name string) {
		if dir := os.Getenv("ROUNDS_SCREENSHOT_DIR"); dir != "" {
			writePNG(t, filepath.Join(dir, name), bobUI.Window.Canvas().Capture())
		}
	}
	shot("files-e2e-bob-desktop.png")
	test.Tap(pdf.action)
	eventually(t, 20*time.Second, "the PDF viewer", func() bool {
		vw := bv.viewer
		return vw != nil && (vw.image.Image != nil || vw.openBtn.Visible())
	})
	shot("files-e2e-bob-pdf-desktop.png")

	// Alice's ticks: bob's view marked both shown.
	eventually(t, 30*time.Second, "read ticks on alice's files", func() bool {
		rows, err := alice.Messages(conv, 10)
		if err != nil || len(rows) != 2 {
			return false
		}
		for _, r := range rows {
			if len(r.Attachments) != 1 || r.Receipt.State != app.ReceiptRead {
				return false
			}
		}
		return true
	})
	_ = fyne.NewSize
}
