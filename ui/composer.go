package ui

import (
	"slices"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/driver/mobile"
	"fyne.io/fyne/v2/widget"
)

// composerEntry is a multi-line, word-wrapping entry that sends on Enter on
// desktop (Shift+Enter for a new line); on mobile Enter is a new line and the
// send button sends.
//
// It keeps its own cursor, at, as a rune offset into the text, because Fyne
// 2.7.1's Entry keeps only a visual row and column and cannot map every
// offset to one. Word wrapping drops the whitespace where a line breaks from
// every row; when that whitespace is the last rune (a space just typed at the
// wrap point) no row and column means "after it": rowColFromTextPos returns
// a row past the last, and the next Refresh (truncatePosition) clamps it to
// the end of the last row, before the space. The next letter then went in
// before the space: "start cardiac monitoring" was sent as "start
// cardiacmonitoring ". The row and column also go stale when the width
// changes (the same column of a re-wrapped row is another offset), and
// Shift+Enter moved the cursor a row too far at a wrap point.
//
// So every edit is handed to the Entry with its cursor put back at at
// (the row whose start is the last at or before at, and the column from
// there, which Fyne's own offset arithmetic, row start + column, reads back
// exactly even past the row's end), and at moves by what the edit did (at+1
// after a rune, at+len after a paste), not by where Fyne's clamp left the
// row and column. Moves the Entry makes itself (arrows, Home/End, a click
// or drag) are read back from it: they land on offsets a row and column
// can say. TestComposerSendsExactlyWhatWasTyped and
// TestComposerEditsMatchAModel prove it.
type composerEntry struct {
	widget.Entry
	shift  bool
	onSend func()

	at int // the cursor, in runes
	// clicked: a click, tap or drag moved the Entry's cursor since the
	// last edit; the next one reads it back.
	clicked bool

	// The field grows with its text from two rows to composerMaxRows, then
	// scrolls; onRows lays the screen out again when it does.
	rows    int
	onRows  func()
	editing bool // between begin and end: a resize then is Fyne's own

	// set is the text SetText last put in (Correct… opens with the
	// message's text): Escape may close a dialog still holding it, not
	// one holding text the user typed (holdsTypedText).
	set string
}

const composerMinRows, composerMaxRows = 2, 5

func newComposer(onSend func()) *composerEntry {
	e := &composerEntry{onSend: onSend}
	e.MultiLine = true
	e.Wrapping = fyne.TextWrapWord
	e.SetPlaceHolder("Write a message")
	e.SetMinRowsVisible(composerMinRows)
	e.rows = composerMinRows
	e.ExtendBaseWidget(e)
	return e
}

// newClinicalField is a dialog's multi-line field for clinical text (Reply…,
// Correct…, a role message, the do-not-disturb reply, a broadcast): the
// composer's exact entry, because a plain word-wrapping Entry moves a space
// typed where the line wraps. Enter is a new line there and Escape goes to
// the dialog (TypedKey, onSend nil).
func newClinicalField() *composerEntry {
	e := newComposer(nil)
	e.SetPlaceHolder("")
	return e
}

// fit grows or shrinks the field to its text's rows.
func (e *composerEntry) fit() {
	n := min(max(len(e.rowStarts()), composerMinRows), composerMaxRows)
	if e.Text == "" {
		n = composerMinRows
	}
	if n == e.rows {
		return
	}
	e.rows = n
	e.SetMinRowsVisible(n)
	if e.onRows != nil {
		e.onRows()
	}
}

// rowStarts is the rune offset where each visual row begins, read from the
// Entry's own row/column arithmetic (row start + column 0; a row past the
// last reads as 0).
func (e *composerEntry) rowStarts() []int {
	r0, c0 := e.CursorRow, e.CursorColumn
	starts := []int{0}
	for r := 1; ; r++ {
		e.CursorRow, e.CursorColumn = r, 0
		b := e.CursorTextOffset()
		if b <= starts[len(starts)-1] {
			break
		}
		starts = append(starts, b)
	}
	e.CursorRow, e.CursorColumn = r0, c0
	return starts
}

// rowCol is a row and column Fyne reads back as the offset at.
func (e *composerEntry) rowCol(at int) (int, int) {
	starts := e.rowStarts()
	r := len(starts) - 1
	for r > 0 && starts[r] > at {
		r--
	}
	return r, at - starts[r]
}

// begin brings at up to date before an edit: where a click or drag put
// the Entry's cursor is read back (it lands on a place a row and column can
// say); then the cursor is put at at.
func (e *composerEntry) begin() {
	if e.clicked {
		e.at = e.CursorTextOffset()
		e.clicked = false
	}
	e.at = min(max(e.at, 0), len([]rune(e.Text)))
	e.CursorRow, e.CursorColumn = e.rowCol(e.at)
	e.editing = true
}

// end records where the cursor is after an edit and shows it there. The
// field may then grow or shrink (fit), which lays it out again: the cursor
// is put back at at after that too.
func (e *composerEntry) end(at int) {
	e.at = min(max(at, 0), len([]rune(e.Text)))
	e.editing = false
	e.fit()
	r, c := e.rowCol(e.at)
	if r != e.CursorRow || c != e.CursorColumn {
		e.CursorRow, e.CursorColumn = r, c
		e.Refresh() // Fyne clamps a column past the row's end for drawing
	}
}

// edited works out the cursor after an edit that replaced the selection sel
// (or nothing) at the cursor with ins, turning before into after.
func (e *composerEntry) edited(before []rune, sel string, ins []rune) int {
	after := []rune(e.Text)
	k := len([]rune(sel))
	if k == 0 {
		return e.at + len(ins)
	}
	// The selection runs from the cursor backwards or forwards.
	var fits []int
	for _, s := range []int{e.at - k, e.at} {
		if s < 0 || s+k > len(before) || string(before[s:s+k]) != sel {
			continue
		}
		want := slices.Concat(before[:s], ins, before[s+k:])
		if string(want) == string(after) {
			fits = append(fits, s+len(ins))
		}
	}
	if len(fits) == 1 {
		return fits[0]
	}
	return e.CursorTextOffset() // both read the same text: Fyne's cursor decides
}

// TypedRune inserts r at the cursor (over the selection, if any).
func (e *composerEntry) TypedRune(r rune) {
	e.insert([]rune{r}, func() { e.Entry.TypedRune(r) })
}

func (e *composerEntry) insert(ins []rune, do func()) {
	e.begin()

	before, sel := []rune(e.Text), e.SelectedText()
	do()
	e.end(e.edited(before, sel, ins))
}

func (e *composerEntry) KeyDown(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = true
	}
	e.Entry.KeyDown(k)
}

func (e *composerEntry) KeyUp(k *fyne.KeyEvent) {
	if k.Name == desktop.KeyShiftLeft || k.Name == desktop.KeyShiftRight {
		e.shift = false
	}
	e.Entry.KeyUp(k)
}

func (e *composerEntry) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if !e.shift && !isMobile() && e.onSend != nil { // no onSend: Enter is a new line
			e.onSend()
			return
		}
		// A new line is a rune like any other (Fyne's own Return moves the
		// cursor a row down, a row too far at a wrap point).
		e.TypedRune('\n')
		return
	case fyne.KeyEscape:
		// A field of a dialog (SBAR) hands Escape to the window, which
		// closes the dialog (escape.go); the composer keeps it.
		if c := fyne.CurrentApp().Driver().CanvasForObject(e); e.onSend == nil && c != nil && c.OnTypedKey() != nil {
			c.OnTypedKey()(k)
			return
		}
	case fyne.KeyBackspace, fyne.KeyDelete:
		e.begin()
		before, sel := []rune(e.Text), e.SelectedText()
		e.Entry.TypedKey(k)
		switch {
		case sel != "":
			e.end(e.edited(before, sel, nil))
		case k.Name == fyne.KeyBackspace && len([]rune(e.Text)) < len(before):
			e.end(e.at - 1)
		default:
			e.end(e.at)
		}
		return
	}
	// A move: Fyne's arrows, Home and End work on rows and columns.
	e.begin()
	e.Entry.TypedKey(k)
	e.end(e.moved(k.Name))
}

// moved is the cursor after a move the Entry made: its own offset, except
// that End (and Down or Page Down on the last row) reach the end of the text
// even when its last rune is whitespace hidden by the wrap.
func (e *composerEntry) moved(key fyne.KeyName) int {
	at := e.CursorTextOffset()
	text := []rune(e.Text)
	hiddenEnd := at == len(text)-1 && unicode.IsSpace(text[at]) && e.CursorRow == len(e.rowStarts())-1
	if hiddenEnd && (key == fyne.KeyEnd || key == fyne.KeyDown || key == fyne.KeyPageDown) {
		return len(text)
	}
	return at
}

// TypedShortcut: paste inserts the clipboard at the cursor; cut and the
// word deletes remove text; the rest (copy, select all, undo, word moves)
// leave the cursor where the Entry puts it.
func (e *composerEntry) TypedShortcut(s fyne.Shortcut) {
	e.begin()
	before, sel := []rune(e.Text), e.SelectedText()
	switch s := s.(type) {
	case *fyne.ShortcutPaste:
		ins := []rune(s.Clipboard.Content())
		e.Entry.TypedShortcut(s)
		if len(ins) == 0 && sel == "" {
			e.end(e.at)
			return
		}
		e.end(e.edited(before, sel, ins))
		return
	case *fyne.ShortcutCut:
		e.Entry.TypedShortcut(s)
		if sel == "" {
			e.end(e.at)
		} else {
			e.end(e.edited(before, sel, nil))
		}
		return
	case *desktop.CustomShortcut:
		if s.KeyName == fyne.KeyBackspace || s.KeyName == fyne.KeyDelete {
			e.Entry.TypedShortcut(s)
			gone := len(before) - len([]rune(e.Text))
			if s.KeyName == fyne.KeyBackspace {
				e.end(e.at - gone)
			} else {
				e.end(e.at)
			}
			return
		}
	}
	e.Entry.TypedShortcut(s)
	e.end(e.CursorTextOffset())
}

// Resize keeps the cursor on the same character when the rows re-wrap.
func (e *composerEntry) Resize(size fyne.Size) {
	if size == e.Size() {
		return
	}
	if e.editing {
		e.Entry.Resize(size)
		return
	}
	e.begin()
	e.Entry.Resize(size)
	e.end(e.at)
}

// SetText replaces the text and puts the cursor at its end.
func (e *composerEntry) SetText(text string) {
	defer e.fit()
	e.editing = false
	e.set = text
	e.Entry.SetText(text)
	e.CursorRow, e.CursorColumn = e.rowCol(len([]rune(text)))
	e.Refresh()
	e.at = len([]rune(text))
	e.clicked = false
}

// The pointer moves the Entry's cursor by rows and columns; the next edit
// reads it back (begin).
func (e *composerEntry) MouseDown(m *desktop.MouseEvent) { e.Entry.MouseDown(m); e.clicked = true }
func (e *composerEntry) MouseUp(m *desktop.MouseEvent)   { e.Entry.MouseUp(m); e.clicked = true }
func (e *composerEntry) Dragged(d *fyne.DragEvent)       { e.Entry.Dragged(d); e.clicked = true }
func (e *composerEntry) DragEnd()                        { e.Entry.DragEnd(); e.clicked = true }
func (e *composerEntry) Tapped(p *fyne.PointEvent)       { e.Entry.Tapped(p); e.clicked = true }
func (e *composerEntry) DoubleTapped(p *fyne.PointEvent) { e.Entry.DoubleTapped(p); e.clicked = true }
func (e *composerEntry) TouchDown(t *mobile.TouchEvent)  { e.Entry.TouchDown(t); e.clicked = true }
func (e *composerEntry) TouchUp(t *mobile.TouchEvent)    { e.Entry.TouchUp(t); e.clicked = true }
