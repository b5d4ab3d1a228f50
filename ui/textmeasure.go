package ui

import (
	"strings"
	"sync"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// measurer predicts how a word-wrapped widget.RichText lays out a message
// body, for thousands of messages at once: each rune is measured once with
// fyne.MeasureText and cached, and words are summed from the cache. The
// prediction errs on the side of one line too many (a little space) rather
// than too few (clipped text). Use it on the UI goroutine.
type measurer struct {
	size  float32
	style fyne.TextStyle
	mu    sync.Mutex
	runes map[rune]float32
	ascii [128]float32

	// RichText geometry, calibrated from a real RichText once per text size.
	lineH, baseH, padW float32
}

var (
	measurersMu sync.Mutex
	measurers   = map[float32]*measurer{}
)

// bodyMeasurer returns the measurer for the current theme's text size.
func bodyMeasurer() *measurer {
	size := theme.TextSize()
	measurersMu.Lock()
	defer measurersMu.Unlock()
	if m, ok := measurers[size]; ok {
		return m
	}
	m := &measurer{size: size, runes: map[rune]float32{}}
	for r := rune(32); r < 127; r++ {
		m.ascii[r] = fyne.MeasureText(string(r), size, m.style).Width
	}
	one := widget.NewRichTextWithText("x")
	one.Wrapping = fyne.TextWrapWord
	two := widget.NewRichTextWithText("x\nx")
	two.Wrapping = fyne.TextWrapWord
	h1, h2 := one.MinSize().Height, two.MinSize().Height
	m.lineH = h2 - h1
	m.baseH = h1 - m.lineH
	flat := widget.NewRichTextWithText("xxxx")
	m.padW = flat.MinSize().Width - fyne.MeasureText("xxxx", size, m.style).Width
	measurers[size] = m
	return m
}

func (m *measurer) runeWidth(r rune) float32 {
	if r >= 32 && r < 127 {
		return m.ascii[r]
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.runes[r]; ok {
		return w
	}
	w := fyne.MeasureText(string(r), m.size, m.style).Width
	m.runes[r] = w
	return w
}

func (m *measurer) width(s string) float32 {
	var w float32
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '\t' {
			r = ' '
		}
		w += m.runeWidth(r)
		i += n
	}
	return w
}

// wrap returns how many lines text takes when wrapped to maxW, and the widest
// line (at most maxW).
func (m *measurer) wrap(text string, maxW float32) (lines int, widest float32) {
	limit := maxW * 0.97 // shaping and kerning differ a little from summed runes
	space := m.ascii[' ']
	for par := range strings.SplitSeq(text, "\n") {
		lines++
		var lineW float32
		for word := range strings.SplitSeq(par, " ") {
			ww := m.width(word)
			switch {
			case lineW == 0 && ww <= limit:
				lineW = ww
			case lineW > 0 && lineW+space+ww <= limit:
				lineW += space + ww
			default:
				if lineW > 0 {
					lines++
					widest = max(widest, lineW)
				}
				for ww > limit { // a word longer than a line breaks anywhere
					lines++
					ww -= limit
					widest = limit
				}
				lineW = ww
			}
		}
		widest = max(widest, lineW)
	}
	return lines, min(widest, maxW)
}

// textHeight is the height of a RichText showing the given number of lines.
func (m *measurer) textHeight(lines int) float32 {
	return m.baseH + float32(lines)*m.lineH
}
