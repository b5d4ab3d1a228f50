package ui

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.org/x/image/draw"

	"rounds/app"
)

// fakeFiles is fakeActions with the attachment calls, each observable and,
// where a test needs it, held until released.
type fakeFiles struct {
	*fakeActions
	mu        gosync.Mutex
	limit     int64
	sentFiles []string
	original  []bool
	hold      chan struct{} // when set, transfers wait for it (or cancel)
	progress  chan struct{} // signalled after the first progress report
	opened    []string
	photo     image.Image
	pdfErr    error
	pdfPage   image.Image
}

func newFakeFiles() *fakeFiles {
	return &fakeFiles{fakeActions: &fakeActions{}, limit: 10<<20 - 16, photo: samplePhoto(400)}
}

func (f *fakeFiles) UploadLimit() (int64, error) { return f.limit, nil }

// release lets held transfers finish and new ones run through.
func (f *fakeFiles) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
}

func (f *fakeFiles) transfer(ctx context.Context, total int64, progress func(done, total int64)) error {
	f.mu.Lock()
	hold, signal := f.hold, f.progress
	f.mu.Unlock()
	progress(total/2, total)
	if signal != nil {
		signal <- struct{}{}
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	progress(total, total)
	return nil
}

func (f *fakeFiles) SendFile(ctx context.Context, conv, name string, r io.Reader, size int64, original bool, progress func(done, total int64)) error {
	data, _ := io.ReadAll(r)
	if int64(len(data)) != size {
		return errTest("size mismatch")
	}
	if err := f.transfer(ctx, size+16, progress); err != nil {
		return err
	}
	f.mu.Lock()
	f.sentFiles = append(f.sentFiles, conv+": "+name)
	f.original = append(f.original, original)
	f.mu.Unlock()
	return nil
}

func (f *fakeFiles) DownloadAttachment(ctx context.Context, id string, progress func(done, total int64)) error {
	return f.transfer(ctx, 4_200_000, progress)
}

func (f *fakeFiles) Thumbnail(id string, maxPx int) (image.Image, error) { return f.photo, nil }
func (f *fakeFiles) ViewImage(id string) (image.Image, error)            { return f.photo, nil }
func (f *fakeFiles) PDFPreview(id string, maxPx int) (image.Image, error) {
	if f.pdfPage != nil {
		return f.pdfPage, nil
	}
	return nil, f.pdfErr
}

// pdftoppmPage is page 1 of sync/testdata/good_report.pdf as pdftoppm
// draws it, or nil without pdftoppm.
func pdftoppmPage(t testing.TB) image.Image {
	tool, err := exec.LookPath("pdftoppm")
	if err != nil {
		return nil
	}
	pdf, err := os.ReadFile(filepath.Join("..", "sync", "testdata", "good_report.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, "-png", "-f", "1", "-l", "1", "-singlefile", "-scale-to", "1600", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
func (f *fakeFiles) OpenWithPlatform(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opened = append(f.opened, id)
	return nil
}

var _ AttachmentActions = (*fakeFiles)(nil)

// samplePhoto is the test fixture photo (a gradient with a red corner),
// upright and scaled to side px.
func samplePhoto(side int) image.Image {
	b, err := os.ReadFile(filepath.Join("..", "app", "testdata", "good_exif_gps.jpg"))
	if err != nil {
		panic(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	sb := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, side, side*sb.Dy()/sb.Dx()))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, sb, draw.Src, nil)
	return dst
}

// fileMessages is a chat where a photo and a PDF were shared both ways.
func fileMessages() []app.MessageRow {
	t := fixedNow.Add(-20 * time.Minute)
	rows := []app.MessageRow{
		{ID: 21, Sender: "Dr Osei", Body: "Can you send me a photo of the heel wound?", Timestamp: t, DayBreak: true},
		{ID: 22, Outgoing: true, Sender: "You", Timestamp: t.Add(2 * time.Minute),
			Attachments: []app.AttachmentRow{{ID: "a1", Name: "Wound left heel bed 12.jpg", MIME: "image/jpeg", Size: 412_000, Downloaded: true, Kind: app.AttachmentImage}}},
		{ID: 23, Sender: "Dr Osei", Timestamp: t.Add(4 * time.Minute),
			Attachments: []app.AttachmentRow{{ID: "m23", Name: "Potassium result.pdf", MIME: "application/pdf", Size: 86_000, Downloaded: true, Kind: app.AttachmentPDF}}},
		{ID: 24, Sender: "Dr Osei", Body: "And the ECG from this morning:", Timestamp: t.Add(5 * time.Minute)},
		{ID: 25, Sender: "Dr Osei", Timestamp: t.Add(5 * time.Minute),
			Attachments: []app.AttachmentRow{{ID: "m25", Name: "ecg-0714.pdf", MIME: "application/pdf", Kind: app.AttachmentPDF}}},
	}
	rows[1].Receipt = receipt(app.ReceiptRead, rows[1].Timestamp)
	return rows
}

func openFiles(t testing.TB, rows []app.MessageRow, size fyne.Size) (*ConversationView, *fakeFiles, fyne.Window) {
	t.Helper()
	f := newFakeFiles()
	v := NewConversationView(ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei", Presence: "available"}, rows, f)
	w := test.NewTempWindow(t, v)
	w.Resize(size)
	return v, f, w
}

func cellFor(v *ConversationView, id string) *attachmentCellView {
	for _, c := range findAll[*attachmentCellView](v) {
		if c.a.ID == id {
			return c
		}
	}
	return nil
}

func labelsIn(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && o.Visible() {
			b.WriteString(l.Text + "\n")
		}
	})
	return b.String()
}

func buttonIn(o fyne.CanvasObject, text string) *widget.Button {
	for _, b := range findAll[*widget.Button](o) {
		if b.Text == text {
			return b
		}
	}
	return nil
}

// Attach: the sheet shows the server's limit first, a picked file uploads
// with a progress bar above the composer, and the bubble that follows shows
// its thumbnail.
func TestAttachFileProgressThenThumbnail(t *testing.T) {
	test.NewTempApp(t)
	rows := fileMessages()[:1]
	v, f, w := openFiles(t, rows, fyne.NewSize(900, 640))
	if !v.att.button.Visible() {
		t.Fatal("no attach button")
	}
	test.Tap(v.att.button)
	sheet := w.Canvas().Overlays().Top()
	if sheet == nil || !waitFor(func() bool { return strings.Contains(labelsIn(sheet), "Files up to 10 MB") }) {
		t.Fatalf("sheet does not show the limit: %q", labelsIn(sheet))
	}
	photo := []byte("jpeg bytes of the wound photo")
	v.att.pick = func(got func(string, io.ReadCloser, int64)) {
		got("wound.jpg", io.NopCloser(bytes.NewReader(photo)), int64(len(photo)))
	}
	f.hold, f.progress = make(chan struct{}), make(chan struct{}, 4)
	test.Tap(buttonIn(sheet, "Choose file…"))
	<-f.progress
	var bar *widget.ProgressBar
	if !waitFor(func() bool {
		bars := findAll[*widget.ProgressBar](v.att.uploads)
		if len(bars) == 1 && bars[0].Value > 0.4 && bars[0].Value < 0.6 {
			bar = bars[0]
		}
		return bar != nil
	}) {
		t.Fatal("no upload progress bar at 50%")
	}
	if !strings.Contains(labelsIn(v.att.uploads), "Sending wound.jpg") {
		t.Fatalf("upload row: %q", labelsIn(v.att.uploads))
	}
	f.release()
	if !waitFor(func() bool { return len(v.att.uploads.Objects) == 0 }) {
		t.Fatal("upload row stays after the file was sent")
	}
	if len(f.sentFiles) != 1 || f.sentFiles[0] != "dr.osei@rounds.test: wound.jpg" || f.original[0] {
		t.Fatalf("sent %v original %v", f.sentFiles, f.original)
	}
	// The app's change brings the new message: its bubble shows the photo.
	v.Append(fileMessages()[1])
	if !waitFor(func() bool {
		c := cellFor(v, "a1")
		return c != nil && c.img.Image != nil && c.img.Visible()
	}) {
		t.Fatal("no thumbnail in the bubble")
	}
}

// Cancel stops an upload: the row goes, no error is shown, nothing sent.
func TestUploadCancel(t *testing.T) {
	test.NewTempApp(t)
	v, f, _ := openFiles(t, fileMessages()[:1], fyne.NewSize(900, 640))
	f.hold, f.progress = make(chan struct{}), make(chan struct{}, 4)
	v.sendFile("big-scan.pdf", io.NopCloser(bytes.NewReader([]byte("%PDF-1.4"))), 8, false)
	<-f.progress
	waitFor(func() bool { return len(findAll[*widget.ProgressBar](v.att.uploads)) == 1 })
	var cancelBtn *widget.Button
	for _, b := range findAll[*widget.Button](v.att.uploads) {
		if b.Icon == theme.CancelIcon() {
			cancelBtn = b
		}
	}
	if cancelBtn == nil {
		t.Fatal("no cancel button on the upload")
	}
	test.Tap(cancelBtn)
	if !waitFor(func() bool { return len(v.att.uploads.Objects) == 0 }) {
		t.Fatal("cancelled upload still shown")
	}
	if len(f.sentFiles) != 0 || v.sendErr.Visible() {
		t.Fatalf("after cancel: sent %v, error %q", f.sentFiles, v.sendErr.Text)
	}
}

// An incoming picture downloads by itself with progress in its bubble; a
// cancelled download shows Download again and does not restart alone.
func TestDownloadProgressAndCancel(t *testing.T) {
	test.NewTempApp(t)
	rows := fileMessages()[:1]
	rows = append(rows, app.MessageRow{ID: 30, Sender: "Dr Osei", Timestamp: fixedNow.Add(-time.Minute),
		Attachments: []app.AttachmentRow{{ID: "m30", Name: "IMG_2291.jpg", MIME: "image/jpeg", Kind: app.AttachmentImage}}})
	f := newFakeFiles()
	f.hold, f.progress = make(chan struct{}), make(chan struct{}, 4)
	v := NewConversationView(ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, rows, f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(900, 640))
	waitFor(func() bool { return len(f.progress) > 0 })
	<-f.progress
	var c *attachmentCellView
	if !waitFor(func() bool {
		c = cellFor(v, "m30")
		return c != nil && c.bar.Visible() && c.bar.Value == 0.5
	}) {
		t.Fatal("no download progress in the bubble")
	}
	if !strings.Contains(c.detail.Text, "2.1 MB of 4.2 MB") {
		t.Fatalf("progress text %q", c.detail.Text)
	}
	test.Tap(c.action) // Cancel
	if !waitFor(func() bool { c = cellFor(v, "m30"); return c != nil && !c.bar.Visible() && c.action.Text == "Download" }) {
		t.Fatal("cancelled download: no Download button")
	}
	time.Sleep(50 * time.Millisecond)
	drainUI()
	v.att.mu.Lock()
	again := v.att.downloads["m30"] != nil
	v.att.mu.Unlock()
	if again {
		t.Fatal("download restarted by itself after cancel")
	}
	// Tapping Download fetches it; the bubble flips to the thumbnail.
	f.release()
	test.Tap(c.action)
	<-f.progress
	if !waitFor(func() bool { c = cellFor(v, "m30"); return c != nil && c.img.Image != nil }) {
		t.Fatal("no thumbnail after the download")
	}
}

// The viewer shows a picture full size; a PDF without a renderer shows its
// details and "Open with…", which asks before the file leaves the vault.
func TestViewerImageAndPDF(t *testing.T) {
	test.NewTempApp(t)
	v, f, w := openFiles(t, fileMessages(), fyne.NewSize(900, 640))
	f.pdfErr = app.ErrNoPDFPreview
	var c *attachmentCellView
	waitFor(func() bool { c = cellFor(v, "a1"); return c != nil && c.img.Image != nil })
	test.Tap(c)
	if !waitFor(func() bool { return v.viewer != nil && v.viewer.image.Image != nil && v.viewer.image.Visible() }) {
		t.Fatal("viewer shows no picture")
	}
	if v.viewer.openBtn.Visible() {
		t.Fatal("a picture offers Open with…")
	}
	// Actual size, scrollable, and back.
	test.Tap(v.viewer.zoom)
	if v.viewer.image.FillMode != canvas.ImageFillOriginal || len(findAll[*container.Scroll](v.viewer.imageBox)) != 1 {
		t.Fatal("zoom did not show the picture at actual size in a scroller")
	}
	test.Tap(v.viewer.zoom)
	if v.viewer.image.FillMode != canvas.ImageFillContain || len(findAll[*container.Scroll](v.viewer.imageBox)) != 0 {
		t.Fatal("zoom did not fit the picture again")
	}
	closeViewer(t, v)

	waitFor(func() bool { c = cellFor(v, "m23"); return c != nil })
	test.Tap(c.action) // Open
	if !waitFor(func() bool { return v.viewer != nil && v.viewer.openBtn.Visible() }) {
		t.Fatal("PDF without preview: no Open with…")
	}
	if !strings.Contains(v.viewer.status.Text, "cannot show PDF pages") {
		t.Fatalf("status %q", v.viewer.status.Text)
	}
	test.Tap(v.viewer.openBtn)
	confirm := w.Canvas().Overlays().Top()
	if confirm == nil || !strings.Contains(labelsIn(confirm)+richTextIn(confirm), "leaves Rounds' encrypted storage") {
		t.Fatalf("no warning before Open with: %q", labelsIn(confirm))
	}
	if len(f.opened) != 0 {
		t.Fatal("opened before the user agreed")
	}
	test.Tap(buttonIn(confirm, "Open"))
	if !waitFor(func() bool { f.mu.Lock(); defer f.mu.Unlock(); return len(f.opened) == 1 && f.opened[0] == "m23" }) {
		t.Fatal("Open with did not hand the file over")
	}
}

func closeViewer(t *testing.T, v *ConversationView) {
	t.Helper()
	for _, b := range findAll[*widget.Button](v.viewer.pop) {
		if b.Icon == theme.CancelIcon() {
			test.Tap(b)
			break
		}
	}
	if v.viewer != nil {
		t.Fatal("viewer did not close")
	}
}

func richTextIn(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) {
		if r, ok := o.(*widget.RichText); ok {
			b.WriteString(r.String())
		}
		if l, ok := o.(*canvas.Text); ok {
			b.WriteString(l.Text)
		}
	})
	return b.String()
}

// A conversation without attachment support has no attach button.
func TestNoAttachButtonWithoutFiles(t *testing.T) {
	test.NewTempApp(t)
	v, _, _ := openConversation(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), fyne.NewSize(900, 640))
	if v.att.button.Visible() {
		t.Fatal("attach button without AttachmentActions")
	}
}

// TestAttachmentScreenshots renders the file screens at desktop and phone
// sizes, dark and light (ROUNDS_SCREENSHOT_DIR writes them, as
// TestScreenshots does).
func TestAttachmentScreenshots(t *testing.T) {
	dir := os.Getenv("ROUNDS_SCREENSHOT_DIR")
	type shot struct {
		name  string
		after func(v *ConversationView, f *fakeFiles, w fyne.Window)
	}
	shots := []shot{
		{"conversation-files", func(v *ConversationView, f *fakeFiles, w fyne.Window) {
			// A download under way (the ECG) and an upload under way.
			f.hold, f.progress = make(chan struct{}), make(chan struct{}, 8)
			v.startDownload(v.rows[4].Attachments[0])
			<-f.progress
			v.sendFile("Drain site bed 7.jpg", io.NopCloser(bytes.NewReader([]byte("x"))), 1, false)
			<-f.progress
			waitFor(func() bool { return len(v.att.uploads.Objects) == 1 })
			v.list.ScrollToBottom()
			waitFor(func() bool { c := cellFor(v, "m25"); return c != nil && c.bar.Visible() })
		}},
		{"attach-sheet", func(v *ConversationView, f *fakeFiles, w fyne.Window) {
			test.Tap(v.att.button)
			waitFor(func() bool { return strings.Contains(labelsIn(w.Canvas().Overlays().Top()), "Files up to") })
		}},
		{"viewer-image", func(v *ConversationView, f *fakeFiles, w fyne.Window) {
			f.photo = samplePhoto(1365)
			v.showViewer(v.rows[1].Attachments[0])
			waitFor(func() bool { return v.viewer != nil && v.viewer.image.Image != nil })
		}},
		{"viewer-image-actualsize", func(v *ConversationView, f *fakeFiles, w fyne.Window) {
			f.photo = samplePhoto(1365)
			v.showViewer(v.rows[1].Attachments[0])
			waitFor(func() bool { return v.viewer != nil && v.viewer.image.Image != nil })
			v.viewer.setActualSize(true)
		}},
		{"viewer-pdf-page1", func(v *ConversationView, f *fakeFiles, w fyne.Window) {
			// What a Linux desktop with poppler-utils shows: pdftoppm's own
			// rendering of the test report (skipped where it is missing).
			f.pdfPage = pdftoppmPage(t)
			v.showViewer(v.rows[2].Attachments[0])
			waitFor(func() bool { return v.viewer != nil && v.viewer.image.Image != nil })
		}},
		{"viewer-pdf-nopreview", func(v *ConversationView, f *fakeFiles, w fyne.Window) {
			f.pdfErr = app.ErrNoPDFPreview
			v.showViewer(v.rows[2].Attachments[0])
			waitFor(func() bool { return v.viewer != nil && v.viewer.openBtn.Visible() })
		}},
	}
	for _, sc := range shots {
		if sc.name == "viewer-pdf-page1" && pdftoppmPage(t) == nil {
			t.Log("pdftoppm not installed: no viewer-pdf-page1 screenshot")
			continue
		}
		for sizeName, size := range screenSizes {
			for _, variant := range []string{"dark", "light"} {
				a := test.NewTempApp(t)
				if variant == "dark" {
					a.Settings().SetTheme(themeVariant(theme.VariantDark))
				} else {
					a.Settings().SetTheme(themeVariant(theme.VariantLight))
				}
				restore := isMobile
				isMobile = func() bool { return sizeName == "phone" }
				v, f, w := openFiles(t, fileMessages(), size)
				if sizeName == "phone" {
					v.OnBack = func() {}
				}
				waitFor(func() bool { c := cellFor(v, "a1"); return c != nil && c.img.Image != nil })
				sc.after(v, f, w)
				drainUI()
				img := w.Canvas().Capture()
				isMobile = restore
				keepScreen(t, dir, sc.name, sizeName, variant, img)
				f.release()
				drainUI()
			}
		}
	}
}

var _ = color.Black
