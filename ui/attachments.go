package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/url"
	"os"
	gosync "sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// Files in a conversation: the attach button and its sheet (server limit,
// "send original"), the file picker (Fyne's dialog on desktops, the
// platform's picker on phones), progress bars with cancel for uploads
// (above the composer) and downloads (in the bubble), thumbnails decoded
// from the vault into memory, and the viewer (viewer.go).
//
// Taking a photo with the camera from inside Rounds is not possible: Fyne
// has no camera API. A photo taken with the camera app lands in the phone's
// gallery before Rounds sees it.

// AttachmentActions is what the file parts of the conversation screen ask
// of the app. A ConversationActions that also implements it gets the attach
// button and attachment bubbles; the calls are made off the UI goroutine.
type AttachmentActions interface {
	// UploadLimit is the largest file the server accepts (0: no limit).
	UploadLimit() (int64, error)
	// SendFile uploads and sends a file; cancel ctx to stop.
	SendFile(ctx context.Context, conv, name string, r io.Reader, size int64, original bool, progress func(done, total int64)) error
	// DownloadAttachment fetches a file into the vault; cancel ctx to stop.
	DownloadAttachment(ctx context.Context, id string, progress func(done, total int64)) error
	// Thumbnail and ViewImage decode a picture from the vault.
	Thumbnail(id string, maxPx int) (image.Image, error)
	ViewImage(id string) (image.Image, error)
	// PDFPreview renders a PDF's first page (app.ErrNoPDFPreview where it
	// cannot).
	PDFPreview(id string, maxPx int) (image.Image, error)
	// OpenWithPlatform hands the file to another app; the user has been
	// warned that it leaves the vault.
	OpenWithPlatform(id string) error
}

const (
	thumbPx     = 200 // thumbnail box: the longest side, in Fyne units
	progressGap = 100 * time.Millisecond
)

// transfer is an upload or download in progress.
type transfer struct {
	name        string
	done, total int64
	cancel      context.CancelFunc
	err         error
	last        time.Time
}

func (t *transfer) fraction() float64 {
	if t.total <= 0 {
		return 0
	}
	return min(1, float64(t.done)/float64(t.total))
}

// attachmentState is a conversation view's file state: what is being sent
// or fetched, and the thumbnails decoded so far (memory only, gone with the
// view).
type attachmentState struct {
	mu        gosync.Mutex
	downloads map[string]*transfer
	thumbs    map[string]image.Image
	loading   map[string]bool
	failed    map[string]bool // automatic download failed: wait for a tap

	button  *widget.Button
	uploads *fyne.Container
	limit   int64 // the server's, from the last sheet (0: unknown)
	popup   *widget.PopUp
	// pick, when set, replaces the file dialog (tests).
	pick func(func(name string, r io.ReadCloser, size int64))
}

func (v *ConversationView) attachActions() AttachmentActions {
	aa, _ := v.actions.(AttachmentActions)
	return aa
}

func (v *ConversationView) initAttachments() {
	s := &v.att
	s.downloads = map[string]*transfer{}
	s.thumbs = map[string]image.Image{}
	s.loading = map[string]bool{}
	s.failed = map[string]bool{}
	s.uploads = container.NewVBox()
	s.button = widget.NewButtonWithIcon("", theme.ContentAddIcon(), v.showAttachSheet)
	s.button.Importance = widget.LowImportance
	if v.attachActions() == nil {
		s.button.Hide()
	}
}

// attachButton and uploadBox go into the composer (conversation.go).
func (v *ConversationView) attachButton() fyne.CanvasObject {
	return container.NewVBox(layout.NewSpacer(), v.att.button)
}

func (v *ConversationView) uploadBox() fyne.CanvasObject { return v.att.uploads }

// showAttachSheet says what may be sent (the server's limit, asked first)
// and offers the picker with the "send original" choice.
func (v *ConversationView) showAttachSheet() {
	aa := v.attachActions()
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if aa == nil || c == nil {
		return
	}
	limitText := widget.NewLabel("Asking the server for its size limit…")
	limitText.Wrapping = fyne.TextWrapWord
	original := widget.NewCheck("Send pictures as the original", nil)
	var pop *widget.PopUp
	choose := widget.NewButtonWithIcon("Choose file…", theme.FolderOpenIcon(), func() {
		pop.Hide()
		v.pickFile(original.Checked)
	})
	choose.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { pop.Hide() })
	note := widget.NewLabel("Pictures are made smaller and stripped of location and camera details before sending, unless sent as the original.")
	note.Wrapping = fyne.TextWrapWord
	note.SizeName = theme.SizeNameCaptionText
	body := container.NewVBox(
		widget.NewLabelWithStyle("Send a file", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		limitText, note, original,
		container.NewHBox(layout.NewSpacer(), cancel, choose))
	pop = widget.NewModalPopUp(container.NewPadded(body), c)
	pop.Resize(fyne.NewSize(min(c.Size().Width-2*theme.Padding(), 440), body.MinSize().Height+4*theme.Padding()))
	v.att.popup = pop
	pop.Show()
	go func() {
		limit, err := aa.UploadLimit()
		doUI(func() {
			switch {
			case errors.Is(err, app.ErrNotConnected):
				limitText.SetText("Not connected: files can be sent only while online.")
				choose.Disable()
			case err != nil:
				limitText.SetText("The server's size limit is unknown: " + err.Error())
			case limit > 0:
				v.att.limit = limit
				limitText.SetText("Files up to " + app.FormatSize(limit) + " (this server's limit).")
			default:
				limitText.SetText("This server names no size limit.")
			}
		})
	}()
}

// pickFile opens the picker and sends what is chosen.
func (v *ConversationView) pickFile(original bool) {
	got := func(name string, r io.ReadCloser, size int64) { v.sendFile(name, r, size, original) }
	if v.att.pick != nil {
		v.att.pick(got)
		return
	}
	w := fileWindow(v)
	if w == nil {
		return
	}
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		name := rc.URI().Name()
		size := int64(-1)
		if rc.URI().Scheme() == "file" {
			if fi, err := os.Stat(rc.URI().Path()); err == nil {
				size = fi.Size()
			}
		}
		if size >= 0 {
			got(name, rc, size)
			return
		}
		// A content:// URI (Android) has no size: read it into memory,
		// bounded by the server's limit, so the upload can announce its
		// length.
		bound := v.att.limit
		if bound <= 0 {
			bound = 100 << 20
		}
		go func() {
			defer rc.Close()
			data, err := io.ReadAll(io.LimitReader(rc, bound+1))
			doUI(func() {
				if err == nil && int64(len(data)) > bound {
					err = fmt.Errorf("%w (more than %s)", app.ErrUploadTooLarge, app.FormatSize(bound))
				}
				if err != nil {
					v.showSendError(err)
					return
				}
				got(name, io.NopCloser(bytes.NewReader(data)), int64(len(data)))
			})
		}()
	}, w)
	d.Show()
}

// sendFile uploads one file with a progress row (and Cancel) above the
// composer; the row goes when it is sent, failed or cancelled.
func (v *ConversationView) sendFile(name string, r io.ReadCloser, size int64, original bool) {
	aa := v.attachActions()
	if aa == nil {
		r.Close()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &transfer{name: name, total: size, cancel: cancel}
	bar := widget.NewProgressBar()
	label := widget.NewLabel("Sending " + name)
	label.Truncation = fyne.TextTruncateEllipsis
	stop := widget.NewButtonWithIcon("", theme.CancelIcon(), cancel)
	stop.Importance = widget.LowImportance
	row := container.NewBorder(nil, nil, nil, stop, container.NewVBox(label, bar))
	v.att.uploads.Add(row)
	v.Refresh()
	conv := v.info.ID
	go func() {
		defer r.Close()
		err := aa.SendFile(ctx, conv, name, r, size, original, func(done, total int64) {
			now := time.Now()
			if now.Sub(t.last) < progressGap && done < total {
				return
			}
			t.last = now
			f := float64(done) / float64(max(total, 1))
			doUI(func() { bar.SetValue(f) })
		})
		cancel()
		doUI(func() {
			v.att.uploads.Remove(row)
			v.Refresh()
			if err != nil && !errors.Is(err, context.Canceled) {
				v.showSendError(err)
			}
		})
	}()
}

func (v *ConversationView) showSendError(err error) {
	v.sendErr.SetText("Not sent: " + err.Error())
	v.sendErr.Show()
	v.Refresh()
}

// startDownload fetches an attachment, showing progress in its bubble.
func (v *ConversationView) startDownload(a app.AttachmentRow) {
	aa := v.attachActions()
	if aa == nil {
		return
	}
	s := &v.att
	s.mu.Lock()
	if s.downloads[a.ID] != nil {
		s.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &transfer{name: a.Name, total: -1, cancel: cancel}
	s.downloads[a.ID] = t
	delete(s.failed, a.ID)
	s.mu.Unlock()
	v.refreshAttachment(a.ID)
	go func() {
		err := aa.DownloadAttachment(ctx, a.ID, func(done, total int64) {
			s.mu.Lock()
			t.done, t.total = done, total
			now := time.Now()
			due := now.Sub(t.last) >= progressGap
			if due {
				t.last = now
			}
			s.mu.Unlock()
			if due {
				doUI(func() { v.refreshAttachment(a.ID) })
			}
		})
		cancel()
		doUI(func() {
			s.mu.Lock()
			delete(s.downloads, a.ID)
			if err != nil {
				s.failed[a.ID] = true
			}
			s.mu.Unlock()
			if err != nil && !errors.Is(err, context.Canceled) {
				slog.Info("ui: download failed", "err", err)
				if w := fileWindow(v); w != nil {
					dialog.ShowError(errors.New("The file could not be downloaded: "+err.Error()), w)
				}
			}
			if err == nil {
				v.markDownloaded(a.ID)
			}
			v.refreshAttachment(a.ID)
		})
	}()
}

// markDownloaded flips the row's attachment to downloaded at once (the
// app's ConversationChanged brings the same a moment later).
func (v *ConversationView) markDownloaded(id string) {
	for i := range v.rows {
		for j := range v.rows[i].Attachments {
			if v.rows[i].Attachments[j].ID == id {
				v.rows[i].Attachments[j].Downloaded = true
			}
		}
	}
}

func (v *ConversationView) cancelDownload(id string) {
	v.att.mu.Lock()
	t := v.att.downloads[id]
	v.att.mu.Unlock()
	if t != nil {
		t.cancel()
	}
}

// refreshAttachment redraws the bubble holding attachment id.
func (v *ConversationView) refreshAttachment(id string) {
	if v.list == nil {
		return
	}
	for i, r := range v.rows {
		for _, a := range r.Attachments {
			if a.ID == id {
				v.list.RefreshItem(i + v.offset())
				return
			}
		}
	}
}

// thumbnail returns the decoded thumbnail of a downloaded picture, loading
// it in the background (then redrawing its bubble) the first time.
func (v *ConversationView) thumbnail(a app.AttachmentRow) image.Image {
	s := &v.att
	s.mu.Lock()
	defer s.mu.Unlock()
	if img := s.thumbs[a.ID]; img != nil || s.loading[a.ID] {
		return img
	}
	aa := v.attachActions()
	if aa == nil {
		return nil
	}
	s.loading[a.ID] = true
	go func() {
		img, err := aa.Thumbnail(a.ID, 2*thumbPx) // twice: sharp on high-density screens
		if err != nil {
			slog.Info("ui: thumbnail", "err", err)
		}
		doUI(func() {
			s.mu.Lock()
			delete(s.loading, a.ID)
			if img != nil {
				s.thumbs[a.ID] = img
			}
			s.mu.Unlock()
			if img != nil {
				v.refreshAttachment(a.ID)
			}
		})
	}()
	return nil
}

// attachmentSize is the area the files of a row take inside its bubble.
func (v *ConversationView) attachmentSize(g *geometry, r app.MessageRow, bubbleMax float32) (w, h float32) {
	for _, a := range r.Attachments {
		aw, ah := attachmentCell(g, a, bubbleMax)
		w = max(w, aw)
		h += ah
	}
	return w, h
}

func attachmentCell(g *geometry, a app.AttachmentRow, bubbleMax float32) (w, h float32) {
	inner := bubbleMax - g.m.padW
	if a.Kind == app.AttachmentImage {
		side := min(float32(thumbPx), inner)
		return side + g.m.padW, side*3/4 + g.pad
	}
	return min(inner, 300) + g.m.padW, fileChipHeight(g) + g.pad
}

func fileChipHeight(g *geometry) float32 {
	return max(2*g.capH+3*g.pad, widget.NewButton("Open", nil).MinSize().Height+g.pad)
}

// attachmentBox draws a row's files inside the bubble: a thumbnail (or a
// placeholder with progress) for pictures, a chip with name, details and
// Download/Open/Cancel for other files.
type attachmentBox struct {
	widget.BaseWidget
	v     *ConversationView
	cells []*attachmentCellView
	box   *fyne.Container
}

func newAttachmentBox(v *ConversationView) *attachmentBox {
	b := &attachmentBox{v: v, box: container.NewWithoutLayout()}
	b.ExtendBaseWidget(b)
	return b
}

func (b *attachmentBox) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(b.box) }

// bind shows the files of row r.
func (b *attachmentBox) bind(r app.MessageRow) {
	if len(r.Attachments) == 0 {
		b.Hide()
		return
	}
	for len(b.cells) < len(r.Attachments) {
		c := newAttachmentCellView(b.v)
		b.cells = append(b.cells, c)
		b.box.Add(c)
	}
	for i, c := range b.cells {
		if i < len(r.Attachments) {
			c.bind(r.Attachments[i])
			c.Show()
		} else {
			c.Hide()
		}
	}
	b.Show()
}

// place lays the cells out at width w (the bubble's inner width).
func (b *attachmentBox) place(g *geometry, w float32) {
	y := float32(0)
	for _, c := range b.cells {
		if !c.Visible() {
			continue
		}
		_, h := attachmentCell(g, c.a, b.v.bubbleMax)
		c.Move(fyne.NewPos(0, y))
		c.Resize(fyne.NewSize(w, h-g.pad))
		y += h
	}
	b.box.Resize(fyne.NewSize(w, y))
}

type attachmentCellView struct {
	widget.BaseWidget
	v      *ConversationView
	a      app.AttachmentRow
	bg     *canvas.Rectangle
	img    *canvas.Image
	icon   *widget.Icon
	name   *widget.Label
	detail *widget.Label
	bar    *widget.ProgressBar
	action *widget.Button
	root   *fyne.Container
}

func newAttachmentCellView(v *ConversationView) *attachmentCellView {
	c := &attachmentCellView{v: v}
	c.bg = canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	c.bg.CornerRadius = theme.InputRadiusSize()
	c.img = canvas.NewImageFromImage(nil)
	c.img.FillMode = canvas.ImageFillContain
	c.img.ScaleMode = canvas.ImageScaleSmooth
	c.icon = widget.NewIcon(theme.FileIcon())
	c.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.name.Truncation = fyne.TextTruncateEllipsis
	c.name.SizeName = theme.SizeNameCaptionText
	c.detail = widget.NewLabel("")
	c.detail.SizeName = theme.SizeNameCaptionText
	c.detail.Truncation = fyne.TextTruncateEllipsis
	c.bar = widget.NewProgressBar()
	c.bar.TextFormatter = func() string { return "" }
	c.action = widget.NewButton("", nil)
	c.action.Importance = widget.LowImportance
	c.root = container.NewWithoutLayout(c.bg, c.img, c.icon, c.name, c.detail, c.bar, c.action)
	c.ExtendBaseWidget(c)
	return c
}

func (c *attachmentCellView) CreateRenderer() fyne.WidgetRenderer {
	return &cellRenderer{c: c}
}

type cellRenderer struct{ c *attachmentCellView }

func (r *cellRenderer) Layout(size fyne.Size)        { r.c.layout(size) }
func (r *cellRenderer) MinSize() fyne.Size           { return fyne.NewSize(60, 40) }
func (r *cellRenderer) Refresh()                     { r.c.layout(r.c.Size()); r.c.root.Refresh() }
func (r *cellRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.c.root} }
func (r *cellRenderer) Destroy()                     {}

// Tapped opens the viewer (a downloaded file) or starts the download.
func (c *attachmentCellView) Tapped(*fyne.PointEvent) {
	if c.a.ID == "" {
		return
	}
	if c.a.Downloaded {
		c.v.showViewer(c.a)
		return
	}
	c.v.startDownload(c.a)
}

func (c *attachmentCellView) bind(a app.AttachmentRow) {
	c.a = a
	v := c.v
	v.att.mu.Lock()
	t := v.att.downloads[a.ID]
	var done, total int64
	var frac float64
	if t != nil {
		done, total, frac = t.done, t.total, t.fraction()
	}
	failed := v.att.failed[a.ID]
	v.att.mu.Unlock()

	c.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	c.name.SetText(a.Name)
	switch {
	case t != nil:
		c.detail.SetText(progressText(done, total))
		c.bar.SetValue(frac)
		c.bar.Show()
		c.action.SetIcon(theme.CancelIcon())
		c.action.SetText("")
		c.action.OnTapped = func() { v.cancelDownload(a.ID) }
		c.action.Show()
	case !a.Downloaded:
		c.bar.Hide()
		c.detail.SetText(kindText(a) + " · " + sizeOrUnknown(a.Size))
		c.action.SetIcon(theme.DownloadIcon())
		c.action.SetText("Download")
		c.action.OnTapped = func() { v.startDownload(a) }
		c.action.Show()
		if a.Kind == app.AttachmentImage && !failed && v.attachActions() != nil {
			// Pictures come down on their own, so the thread shows them
			// (started after this bind, not inside the list's update).
			go doUI(func() { v.startDownload(a) })
		}
	default:
		c.bar.Hide()
		c.detail.SetText(kindText(a) + " · " + app.FormatSize(a.Size))
		c.action.SetIcon(theme.VisibilityIcon())
		c.action.SetText("Open")
		c.action.OnTapped = func() { v.showViewer(a) }
		c.action.Show()
	}
	if a.Unencrypted && t == nil {
		// First, so a narrow cell's ellipsis never hides it.
		c.detail.SetText(app.UnencryptedFileLabel + " · " + c.detail.Text)
	}
	c.img.Image = nil
	if a.Kind == app.AttachmentImage && a.Downloaded && t == nil {
		c.img.Image = v.thumbnail(a)
	}
	switch a.Kind {
	case app.AttachmentPDF:
		c.icon.SetResource(theme.FileTextIcon())
	case app.AttachmentImage:
		c.icon.SetResource(theme.FileImageIcon())
	default:
		c.icon.SetResource(theme.FileIcon())
	}
	c.Refresh()
}

func (c *attachmentCellView) layout(size fyne.Size) {
	pad := theme.Padding()
	c.root.Resize(size)
	c.bg.Resize(size)
	c.bg.Move(fyne.NewPos(0, 0))
	if c.a.Kind == app.AttachmentImage && c.img.Image != nil {
		for _, o := range []fyne.CanvasObject{c.bg, c.icon, c.name, c.detail, c.bar, c.action} {
			o.Hide()
		}
		c.img.Show()
		c.img.Move(fyne.NewPos(0, 0))
		c.img.Resize(size)
		c.img.Refresh()
		return
	}
	c.img.Hide()
	c.bg.Show()
	c.icon.Show()
	c.name.Show()
	c.detail.Show()
	is := theme.IconInlineSize() * 1.5
	as := c.action.MinSize()
	textX := pad + is + pad
	textW := size.Width - textX - as.Width - pad
	lineH := c.name.MinSize().Height
	if c.a.Kind == app.AttachmentImage {
		// Placeholder while the picture comes: centred icon, name, progress.
		c.icon.Resize(fyne.NewSize(is, is))
		c.icon.Move(fyne.NewPos((size.Width-is)/2, size.Height/2-is-lineH/2))
		c.name.Resize(fyne.NewSize(size.Width-2*pad, lineH))
		c.name.Move(fyne.NewPos(pad, size.Height/2-lineH/2))
		c.detail.Resize(fyne.NewSize(size.Width-2*pad, lineH))
		c.detail.Move(fyne.NewPos(pad, size.Height/2+lineH/2-pad))
		c.bar.Resize(fyne.NewSize(size.Width-as.Width-3*pad, 6))
		c.bar.Move(fyne.NewPos(pad, size.Height-as.Height/2-pad-3))
		c.action.Resize(as)
		c.action.Move(fyne.NewPos(size.Width-as.Width-pad, size.Height-as.Height-pad))
		return
	}
	c.icon.Resize(fyne.NewSize(is, is))
	c.icon.Move(fyne.NewPos(pad, (size.Height-is)/2))
	top := (size.Height - 2*lineH + 2*pad) / 2
	c.name.Resize(fyne.NewSize(textW, lineH))
	c.name.Move(fyne.NewPos(textX-pad, top-pad))
	if c.bar.Visible() {
		c.bar.Resize(fyne.NewSize(textW-pad, 6))
		c.bar.Move(fyne.NewPos(textX, top+lineH-pad))
		c.detail.Resize(fyne.NewSize(textW, lineH))
		c.detail.Move(fyne.NewPos(textX-pad, top+lineH-2*pad+4))
	} else {
		c.detail.Resize(fyne.NewSize(textW, lineH))
		c.detail.Move(fyne.NewPos(textX-pad, top+lineH-2*pad))
	}
	c.action.Resize(as)
	c.action.Move(fyne.NewPos(size.Width-as.Width-pad, (size.Height-as.Height)/2))
}

func kindText(a app.AttachmentRow) string {
	switch a.Kind {
	case app.AttachmentImage:
		return "Photo"
	case app.AttachmentPDF:
		return "PDF"
	}
	return "File"
}

func sizeOrUnknown(n int64) string {
	if n <= 0 {
		return "size unknown"
	}
	return app.FormatSize(n)
}

func progressText(done, total int64) string {
	if total > 0 {
		return app.FormatSize(done) + " of " + app.FormatSize(total)
	}
	return app.FormatSize(done)
}

func fileWindow(o fyne.CanvasObject) fyne.Window {
	c := fyne.CurrentApp().Driver().CanvasForObject(o)
	if c == nil {
		return nil
	}
	for _, w := range fyne.CurrentApp().Driver().AllWindows() {
		if w.Canvas() == c {
			return w
		}
	}
	return nil
}

// The controller's actions: the app.Client's attachment calls.

func (a *actions) UploadLimit() (int64, error) { return a.cl.UploadLimit() }

func (a *actions) SendFile(ctx context.Context, conv, name string, r io.Reader, size int64, original bool, progress func(done, total int64)) error {
	_, err := a.cl.SendFile(ctx, conv, name, r, size, app.AttachOptions{Original: original}, progress)
	return err
}

func (a *actions) DownloadAttachment(ctx context.Context, id string, progress func(done, total int64)) error {
	_, err := a.cl.Download(ctx, id, progress)
	return err
}

func (a *actions) Thumbnail(id string, maxPx int) (image.Image, error) {
	return a.cl.Thumbnail(id, maxPx)
}
func (a *actions) ViewImage(id string) (image.Image, error) { return a.cl.ViewImage(id) }
func (a *actions) PDFPreview(id string, maxPx int) (image.Image, error) {
	return a.cl.PDFPreview(id, maxPx)
}

func (a *actions) OpenWithPlatform(id string) error {
	p, cleanup, err := a.cl.ExportForPlatform(id)
	if err != nil {
		return err
	}
	// The app removes the copy after a while and at lock, sign-out and wipe
	// (app/exportsweep.go, on its injected clock); the UI keeps no list or
	// timer of its own and removes it only when no app could be asked to
	// open it.
	u := &url.URL{Scheme: "file", Path: p}
	if err := fyne.CurrentApp().OpenURL(u); err != nil {
		cleanup()
		return err
	}
	return nil
}
