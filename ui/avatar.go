package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// avatar stands for a person: their picture (XEP-0084, app.Avatar) in a
// circle, else their initials on the colour of their address (XEP-0392),
// or an icon (a room, or no initials).
type avatar struct {
	widget.BaseWidget
	icon    *widget.Icon
	circle  *canvas.Circle
	text    *canvas.Text
	picture *canvas.Image
}

func newAvatar(fallback fyne.Resource) *avatar {
	a := &avatar{icon: widget.NewIcon(fallback), circle: canvas.NewCircle(color.Transparent), text: canvas.NewText("", color.White),
		picture: &canvas.Image{FillMode: canvas.ImageFillCover, ScaleMode: canvas.ImageScaleSmooth}}
	a.text.TextStyle.Bold = true
	a.text.Alignment = fyne.TextAlignCenter
	a.circle.Hide()
	a.text.Hide()
	a.picture.Hide()
	a.ExtendBaseWidget(a)
	return a
}

// set shows av's picture, else its initials, else the icon res.
func (a *avatar) set(av app.Avatar, res fyne.Resource) {
	if av.Picture != nil {
		a.icon.Hide()
		a.circle.Hide()
		a.text.Hide()
		if a.picture.Image != av.Picture {
			a.picture.Image = av.Picture
			a.picture.Refresh()
		}
		a.picture.Show()
		a.Refresh()
		return
	}
	a.picture.Hide()
	a.picture.Image = nil
	if av.Initials == "" {
		a.icon.SetResource(res)
		a.icon.Show()
		a.circle.Hide()
		a.text.Hide()
		return
	}
	a.icon.Hide()
	a.circle.FillColor = av.Colour
	a.text.Text = av.Initials
	a.text.Color = readableOn(av.Colour)
	a.circle.Show()
	a.text.Show()
	a.Refresh()
}

// readableOn is black or white, whichever contrasts more with bg.
func readableOn(bg color.Color) color.Color {
	if contrastRatio(color.White, bg) >= contrastRatio(color.Black, bg) {
		return color.White
	}
	return color.Black
}

func (a *avatar) CreateRenderer() fyne.WidgetRenderer {
	return &avatarRenderer{a: a, objs: []fyne.CanvasObject{a.icon, a.circle, a.text, a.picture}}
}

type avatarRenderer struct {
	a    *avatar
	objs []fyne.CanvasObject
}

func (r *avatarRenderer) Layout(size fyne.Size) {
	r.a.icon.Resize(size)
	d := min(size.Width, size.Height)
	pos := fyne.NewPos((size.Width-d)/2, (size.Height-d)/2)
	r.a.circle.Move(pos)
	r.a.circle.Resize(fyne.NewSize(d, d))
	r.a.picture.Move(pos)
	r.a.picture.Resize(fyne.NewSize(d, d))
	r.a.picture.CornerRadius = d / 2
	r.a.text.TextSize = d * 0.42
	ts := r.a.text.MinSize()
	r.a.text.Move(fyne.NewPos((size.Width-ts.Width)/2, (size.Height-ts.Height)/2))
	r.a.text.Resize(ts)
}

func (r *avatarRenderer) MinSize() fyne.Size {
	s := theme.IconInlineSize() * 1.6
	return fyne.NewSize(s, s)
}
func (r *avatarRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *avatarRenderer) Destroy()                     {}
func (r *avatarRenderer) Refresh() {
	r.Layout(r.a.Size())
	canvas.Refresh(r.a)
}
