package ui

import (
	"errors"
	"image"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// The viewer shows a file over the conversation, decoded from the vault
// into memory only:
//   - pictures at full size, fitted to the window;
//   - PDFs: page 1 where the device can render it (app.PDFPreview: Linux
//     desktops with poppler-utils); elsewhere the document's details and
//     "Open with…";
//   - anything else: its details and "Open with…".
// "Open with…" hands a copy to another app, which takes the file out of
// Rounds' encrypted storage: it asks first.

// Viewer is the open viewer (tests look inside).
type Viewer struct {
	att     app.AttachmentRow
	pop     *widget.PopUp
	image   *canvas.Image
	status  *widget.Label
	openBtn *widget.Button // under the details, when nothing can be shown
	pageBtn *widget.Button // under a PDF's page-1 preview (the other pages)
	body    *fyne.Container
	page    *canvas.Rectangle // backdrop that sets a white page apart
	frame   *fyne.Container
	// zoom switches between fitted and actual size (scrolled): Fyne has no
	// pinch zoom.
	zoom     *widget.Button
	imageBox *fyne.Container
	actual   bool
}

// setActualSize shows the picture pixel for pixel in a scroller, or fitted.
func (vw *Viewer) setActualSize(on bool) {
	vw.actual = on
	if on {
		vw.image.FillMode = canvas.ImageFillOriginal
		vw.imageBox.Objects = []fyne.CanvasObject{container.NewScroll(vw.image)}
		vw.zoom.SetIcon(theme.ZoomFitIcon())
	} else {
		vw.image.FillMode = canvas.ImageFillContain
		vw.imageBox.Objects = []fyne.CanvasObject{vw.image}
		vw.zoom.SetIcon(theme.ZoomInIcon())
	}
	vw.image.Refresh()
	vw.imageBox.Refresh()
}

// showViewer opens the viewer for a downloaded attachment.
func (v *ConversationView) showViewer(a app.AttachmentRow) {
	aa := v.attachActions()
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if aa == nil || c == nil {
		return
	}
	vw := &Viewer{att: a}
	vw.image = canvas.NewImageFromImage(nil)
	vw.image.FillMode = canvas.ImageFillContain
	vw.image.ScaleMode = canvas.ImageScaleSmooth
	vw.image.Hide()
	vw.status = widget.NewLabel("Opening…")
	vw.status.Wrapping = fyne.TextWrapWord
	vw.status.Alignment = fyne.TextAlignCenter
	vw.openBtn = widget.NewButtonWithIcon("Open with…", theme.ComputerIcon(), func() { v.confirmOpenWith(a) })
	vw.openBtn.Hide()
	vw.pageBtn = widget.NewButtonWithIcon("Other pages: open with…", theme.ComputerIcon(), func() { v.confirmOpenWith(a) })
	vw.pageBtn.Hide()

	title := widget.NewLabelWithStyle(a.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Truncation = fyne.TextTruncateEllipsis
	detailText := kindText(a) + " · " + sizeOrUnknown(a.Size)
	if a.Unencrypted {
		detailText = app.UnencryptedFileNote + " · " + detailText
	}
	details := widget.NewLabel(detailText)
	details.SizeName = theme.SizeNameCaptionText
	closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), nil)
	closeBtn.Importance = widget.LowImportance
	vw.zoom = widget.NewButtonWithIcon("", theme.ZoomInIcon(), func() { vw.setActualSize(!vw.actual) })
	vw.zoom.Importance = widget.LowImportance
	vw.zoom.Hide()
	header := container.NewBorder(nil, nil, nil, container.NewHBox(vw.zoom, closeBtn), container.NewVBox(title, details))
	info := container.NewVBox(layout.NewSpacer(), vw.status, container.NewCenter(vw.openBtn), layout.NewSpacer())
	vw.page = canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	vw.page.Hide()
	vw.imageBox = container.NewStack(vw.image)
	vw.body = container.NewStack(vw.page, vw.imageBox, info)
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	vw.frame = container.NewBorder(header, container.NewPadded(container.NewCenter(vw.pageBtn)), nil, nil, vw.body)
	content := container.NewStack(bg, vw.frame)
	closeBtn.OnTapped = func() {
		vw.pop.Hide()
		vw.image.Image = nil // the decoded picture leaves memory with the viewer
		v.viewer = nil
	}
	vw.pop = widget.NewModalPopUp(newEscapable(content, closeBtn.OnTapped), c)
	frame := vw.pop.MinSize().Subtract(content.MinSize()) // the pop-up's own padding
	vw.pop.Resize(c.Size().Subtract(frame).Subtract(frame))
	v.viewer = vw
	vw.pop.Show()

	go func() {
		var img image.Image
		var err error
		switch a.Kind {
		case app.AttachmentImage:
			img, err = aa.ViewImage(a.ID)
		case app.AttachmentPDF:
			img, err = aa.PDFPreview(a.ID, 1600)
		default:
			err = errNoViewer
		}
		doUI(func() { vw.show(img, err) })
	}()
}

var errNoViewer = errors.New("no viewer for this type")

func (vw *Viewer) show(img image.Image, err error) {
	if err == nil && img != nil {
		vw.image.Image = img
		vw.image.Show()
		vw.image.Refresh()
		vw.zoom.Show()
		if vw.att.Kind == app.AttachmentPDF {
			vw.status.SetText("")
			vw.status.Hide()
			vw.pageBtn.Show() // the other pages need another app
			vw.page.Show()
		} else {
			vw.status.Hide()
		}
		vw.frame.Refresh()
		return
	}
	switch {
	case vw.att.Kind == app.AttachmentPDF && errors.Is(err, app.ErrNoPDFPreview):
		vw.status.SetText("Rounds cannot show PDF pages on this device.\n" + vw.att.Name + " · " + sizeOrUnknown(vw.att.Size))
		vw.openBtn.Show()
	case errors.Is(err, errNoViewer):
		vw.status.SetText("Rounds cannot show this type of file (" + vw.att.MIME + ").")
		vw.openBtn.Show()
	default:
		vw.status.SetText("This file cannot be shown: " + err.Error())
	}
	vw.frame.Refresh()
}

// confirmOpenWith warns that the file leaves the vault, then hands it over.
func (v *ConversationView) confirmOpenWith(a app.AttachmentRow) {
	w := fileWindow(v)
	aa := v.attachActions()
	if w == nil || aa == nil {
		return
	}
	d := dialog.NewConfirm("Open in another app?",
		"The file leaves Rounds' encrypted storage: a copy is written to this device's\n"+
			"temporary folder for the other app, which may keep its own copy.\n"+
			"Rounds deletes its copy when it locks or after 10 minutes.",
		func(ok bool) {
			if !ok {
				return
			}
			go func() {
				if err := aa.OpenWithPlatform(a.ID); err != nil {
					doUI(func() { dialog.ShowError(errors.New("The file could not be opened: "+err.Error()), w) })
				}
			}()
		}, w)
	d.SetConfirmText("Open")
	d.SetDismissText("Cancel")
	d.Show()
}
