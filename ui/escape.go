package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// closeOnEscape makes Escape close the topmost dialog or pop-up on c, as
// users expect from every desktop app. Fyne gives the canvas the key only
// when nothing on the top layer has focus: a dialog's text field (field)
// hands it on.
func closeOnEscape(c fyne.Canvas) {
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name != fyne.KeyEscape {
			return
		}
		top := c.Overlays().Top()
		if top == nil || holdsTypedText(top) {
			return
		}
		if p, ok := top.(*widget.PopUp); ok {
			if e, ok := p.Content.(*escapable); ok {
				e.close()
				return
			}
		}
		top.Hide()
	})
}

// holdsTypedText reports whether o holds clinical text typed and not sent:
// a multi-line field (a reply, a correction, a broadcast) or a composer
// field (SBAR) that is not blank. Escape leaves such a dialog open (Cancel
// closes it): one stray key threw a whole SBAR handover away.
func holdsTypedText(o fyne.CanvasObject) bool {
	switch o := o.(type) {
	case *widget.PopUp:
		return holdsTypedText(o.Content)
	case *fyne.Container:
		for _, c := range o.Objects {
			if holdsTypedText(c) {
				return true
			}
		}
	case *container.Scroll:
		return holdsTypedText(o.Content)
	case *escapable:
		return holdsTypedText(o.content)
	case *field:
		return o.MultiLine && o.typed && strings.TrimSpace(o.Text) != ""
	case *composerEntry:
		return strings.TrimSpace(o.Text) != "" && o.Text != o.set
	}
	return false
}

// escapable is a pop-up's content that must do more than disappear when
// Escape closes it (the viewer drops its decoded picture).
type escapable struct {
	widget.BaseWidget
	content fyne.CanvasObject
	close   func()
}

func newEscapable(content fyne.CanvasObject, close func()) *escapable {
	e := &escapable{content: content, close: close}
	e.ExtendBaseWidget(e)
	return e
}

func (e *escapable) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(e.content)
}

// field is a text field in a dialog. Fyne hands a key to the focused
// widget only, never to the canvas as well, and an Entry ignores Escape: a
// dialog whose field had the cursor stayed open. A field hands Escape to
// its window's handler (closeOnEscape) instead. Every text field in a
// dialog or pop-up is one (newField, newMultiLineField, newPasswordField),
// or for clinical text the composer's exact entry (newClinicalField).
type field struct {
	widget.Entry
	typed bool // the user edited it (Correct… opens with the message's text)
}

func newField() *field {
	f := &field{}
	f.Wrapping = fyne.TextWrap(fyne.TextTruncateClip) // as widget.NewEntry
	f.ExtendBaseWidget(f)
	return f
}

func newMultiLineField() *field {
	f := newField()
	f.MultiLine = true
	return f
}

// newPasswordField hides what is typed, with the eye button that shows it
// (Fyne's own is tied to a plain Entry).
func newPasswordField() *field {
	f := newField()
	f.Password = true
	f.ActionItem = newRevealer(f)
	return f
}

func (f *field) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		if c := fyne.CurrentApp().Driver().CanvasForObject(f); c != nil && c.OnTypedKey() != nil {
			c.OnTypedKey()(k)
			return
		}
	}
	switch k.Name {
	case fyne.KeyBackspace, fyne.KeyDelete, fyne.KeyReturn, fyne.KeyEnter:
		f.typed = true
	}
	f.Entry.TypedKey(k)
}

func (f *field) TypedRune(r rune) {
	f.typed = true
	f.Entry.TypedRune(r)
}

func (f *field) TypedShortcut(s fyne.Shortcut) {
	switch s.(type) {
	case *fyne.ShortcutPaste, *fyne.ShortcutCut:
		f.typed = true
	}
	f.Entry.TypedShortcut(s)
}

// revealer is a password field's eye button: it shows or hides the text.
type revealer struct {
	widget.BaseWidget
	icon *canvas.Image
	f    *field
}

func newRevealer(f *field) *revealer {
	r := &revealer{icon: canvas.NewImageFromResource(theme.VisibilityOffIcon()), f: f}
	r.ExtendBaseWidget(r)
	return r
}

func (r *revealer) CreateRenderer() fyne.WidgetRenderer {
	return &revealerRenderer{WidgetRenderer: widget.NewSimpleRenderer(r.icon), r: r}
}

func (r *revealer) Tapped(*fyne.PointEvent) {
	if r.f.Disabled() {
		return
	}
	r.f.Password = !r.f.Password
	r.f.Refresh()
	r.Refresh()
	if c := fyne.CurrentApp().Driver().CanvasForObject(r); c != nil {
		c.Focus(r.f)
	}
}

type revealerRenderer struct {
	fyne.WidgetRenderer
	r *revealer
}

func (rr *revealerRenderer) Layout(size fyne.Size) {
	s := theme.Size(theme.SizeNameInlineIcon)
	rr.r.icon.Resize(fyne.NewSquareSize(s))
	rr.r.icon.Move(fyne.NewPos((size.Width-s)/2, (size.Height-s)/2))
}

func (rr *revealerRenderer) MinSize() fyne.Size {
	return fyne.NewSquareSize(theme.Size(theme.SizeNameInlineIcon) + 2*theme.Size(theme.SizeNameInnerPadding))
}

func (rr *revealerRenderer) Refresh() {
	res := theme.VisibilityOffIcon()
	if !rr.r.f.Password {
		res = theme.VisibilityIcon()
	}
	if rr.r.f.Disabled() {
		res = theme.NewDisabledResource(res)
	}
	rr.r.icon.Resource = res
	rr.r.icon.Refresh()
}
