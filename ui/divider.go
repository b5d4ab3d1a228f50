package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// paneSplit is the desktop's inbox | conversation split. Its divider is a
// plain line in the theme's separator colour that lights up (hover colour)
// under the pointer, with the resize cursor; Fyne's divider draws a grip in
// the text colour (a white bar in the dark theme) on a translucent shadow.
//
// It is Rounds' own rather than container.Split under theme overrides (the
// only way to recolour Fyne's unexported divider) because Fyne caches font
// faces per theme-override scope: the split's override and the two panes'
// made Fyne parse every font, its 4 MB colour-emoji font included, three
// more times, ≈ 27 MB of Go heap held for the app's life
// (docs/BENCHMARKS.md, "app").
type paneSplit struct {
	widget.BaseWidget
	// Offset is the leading pane's share of the width without the
	// divider (0–1), kept within both panes' minimum widths.
	Offset            float64
	Leading, Trailing fyne.CanvasObject
	div               *paneDivider
}

func newPaneSplit(leading, trailing fyne.CanvasObject) *paneSplit {
	s := &paneSplit{Offset: 0.5, Leading: leading, Trailing: trailing}
	s.div = &paneDivider{split: s}
	s.div.ExtendBaseWidget(s.div)
	s.ExtendBaseWidget(s)
	return s
}

// dividerWidth is as wide as Fyne's divider, so the panes sit where they did.
func dividerWidth() float32 { return 2 * theme.Padding() }

// lengths splits width between the panes (without the divider), keeping
// each at least its minimum width, as Fyne's split does.
func (s *paneSplit) lengths(width float32) (float32, float32) {
	avail := float64(width - dividerWidth())
	if avail <= 0 {
		return 0, 0
	}
	ld, tr := float64(s.Leading.MinSize().Width), float64(s.Trailing.MinSize().Width)
	off := s.Offset
	if lo, hi := ld/avail, 1-tr/avail; lo <= hi {
		off = min(max(off, lo), hi)
	} else {
		off = ld / (ld + tr)
	}
	return float32(off * avail), float32(avail - off*avail)
}

func (s *paneSplit) CreateRenderer() fyne.WidgetRenderer {
	return &paneSplitRenderer{s: s}
}

type paneSplitRenderer struct{ s *paneSplit }

func (r *paneSplitRenderer) Layout(size fyne.Size) {
	s := r.s
	lw, tw := s.lengths(size.Width)
	s.Leading.Move(fyne.NewPos(0, 0))
	s.Leading.Resize(fyne.NewSize(lw, size.Height))
	s.div.Move(fyne.NewPos(lw, 0))
	s.div.Resize(fyne.NewSize(dividerWidth(), size.Height))
	s.Trailing.Move(fyne.NewPos(lw+dividerWidth(), 0))
	s.Trailing.Resize(fyne.NewSize(tw, size.Height))
}

func (r *paneSplitRenderer) MinSize() fyne.Size {
	l, t := r.s.Leading.MinSize(), r.s.Trailing.MinSize()
	return fyne.NewSize(l.Width+dividerWidth()+t.Width, max(l.Height, t.Height, 6*theme.Padding()))
}

func (r *paneSplitRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.s.Leading, r.s.div, r.s.Trailing}
}

func (r *paneSplitRenderer) Refresh() {
	r.Layout(r.s.Size())
	r.s.Leading.Refresh()
	r.s.div.Refresh()
	r.s.Trailing.Refresh()
}

func (r *paneSplitRenderer) Destroy() {}

// paneDivider is the line between the panes; dragging it moves the split.
type paneDivider struct {
	widget.BaseWidget
	split   *paneSplit
	hovered bool
	dragX   float32 // where the divider is dragged to, in the split
	drag    bool
}

var (
	_ fyne.Draggable     = (*paneDivider)(nil)
	_ desktop.Cursorable = (*paneDivider)(nil)
	_ desktop.Hoverable  = (*paneDivider)(nil)
)

func (d *paneDivider) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameSeparator))
	return &paneDividerRenderer{d: d, bg: bg}
}

func (d *paneDivider) Cursor() desktop.Cursor { return desktop.HResizeCursor }

func (d *paneDivider) Dragged(e *fyne.DragEvent) {
	if !d.drag { // from where the divider stood, as Fyne's divider does
		d.drag = true
		d.dragX = d.Position().X
	}
	d.dragX += e.Dragged.DX
	s := d.split
	free := float64(s.Size().Width - dividerWidth())
	if free <= 0 {
		return
	}
	lo := float64(s.Leading.MinSize().Width) / free
	hi := 1 - float64(s.Trailing.MinSize().Width)/free
	off := min(max(float64(d.dragX)/free, lo), hi)
	if off != s.Offset {
		s.Offset = off
		s.Refresh()
	}
}

func (d *paneDivider) DragEnd() { d.drag = false }

func (d *paneDivider) MouseIn(*desktop.MouseEvent) {
	d.hovered = true
	d.Refresh()
}

func (d *paneDivider) MouseMoved(*desktop.MouseEvent) {}

func (d *paneDivider) MouseOut() {
	d.hovered = false
	d.Refresh()
}

type paneDividerRenderer struct {
	d  *paneDivider
	bg *canvas.Rectangle
}

func (r *paneDividerRenderer) Layout(size fyne.Size) { r.bg.Resize(size) }
func (r *paneDividerRenderer) MinSize() fyne.Size {
	return fyne.NewSize(dividerWidth(), 6*theme.Padding())
}
func (r *paneDividerRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg} }
func (r *paneDividerRenderer) Destroy()                     {}

func (r *paneDividerRenderer) Refresh() {
	if r.d.hovered {
		r.bg.FillColor = theme.Color(theme.ColorNameHover)
	} else {
		r.bg.FillColor = theme.Color(theme.ColorNameSeparator)
	}
	r.bg.Refresh()
}
