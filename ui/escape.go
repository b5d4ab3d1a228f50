package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// closeOnEscape makes Escape close the topmost dialog or pop-up on c, as
// users expect from every desktop app. Fyne gives the canvas the key only
// when nothing on the top layer has focus, so a dialog whose text field
// has the cursor keeps Escape for the field.
func closeOnEscape(c fyne.Canvas) {
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name != fyne.KeyEscape {
			return
		}
		top := c.Overlays().Top()
		if top == nil {
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
