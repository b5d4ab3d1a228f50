package ui

import (
	"math/rand"
	"strings"
	"testing"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
)

// clinicalSentences are typed into the composer keystroke by keystroke.
// They mix the words, numbers, units and symbols a ward sends; the
// composer must hand app exactly these bytes whatever the width. "\n" is
// typed as Shift+Enter (a new line, not a send).
var clinicalSentences = []string{
	"Bed 12: start cardiac monitoring, recheck K+ and Mg2+ in 2 h, call me if HR > 120 or SBP < 90",
	"Please give furosemide 40 mg IV now and repeat U&E at 18:00; strict fluid balance, target -1 L",
	"Pt in bay 4 (Mr J. Smith, NHS 943 476 5919) c/o chest pain 7/10, ECG done, troponin sent",
	"NEWS2 = 7 → escalated to outreach; O2 sats 89% on 2 L, increased to 4 L via nasal cannulae",
	"Hold the 22:00 enoxaparin — platelets 48 ×10⁹/L this morning; haematology aware, review tomorrow",
	"Handover bed 7:\nsepsis 6 started 14:10, lactate 4.2\nblood cultures x2 sent, first abx given 14:35",
	"Ms Nguyen  (two spaces on purpose) allergic to penicillin: rash + wheeze in 2019, use clarithromycin",
}

// typeOnCanvas types s into the canvas's focused object, as the driver
// does with key presses: runes, "\n" as Shift+Enter.
func typeOnCanvas(c fyne.Canvas, s string) {
	e := c.Focused().(*composerEntry)
	for _, r := range s {
		if r == '\n' {
			e.KeyDown(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
			c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
			e.KeyUp(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
			continue
		}
		c.Focused().TypedRune(r)
	}
}

// TestComposerSendsExactlyWhatWasTyped types each sentence through the
// real composer at every width from 200 to 1200 px (4 px apart) and checks
// that the text handed to the send action, by Enter and by the send button,
// is byte for byte what was typed, and the same for a paste. Fyne 2.7.1's
// word-wrapping Entry moved a space typed where the line wraps ("start
// cardiac monitoring" sent as "start cardiacmonitoring").
func TestComposerSendsExactlyWhatWasTyped(t *testing.T) {
	test.NewTempApp(t)
	v, f, w := openConversation(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), fyne.NewSize(900, 680))
	c := w.Canvas()
	bad, tries := 0, 0
	check := func(how string, width int, s string) {
		tries++
		want := "dr.osei@rounds.test: " + s
		if len(f.sent) != 1 || f.sent[0] != want {
			bad++
			if bad <= 5 {
				t.Errorf("%s at width %d: sent %q, typed %q", how, width, f.sent, s)
			}
		}
		f.sent = nil
	}
	for width := 200; width <= 1200; width += 4 {
		w.Resize(fyne.NewSize(float32(width), 680))
		for i, s := range clinicalSentences {
			c.Focus(v.composer)
			typeOnCanvas(c, s)
			if i%2 == 0 {
				c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
			} else {
				test.Tap(v.send)
			}
			check("typed", width, s)
		}
		// Pasted, in pieces that end where a wrap may fall.
		s := clinicalSentences[width%len(clinicalSentences)]
		c.Focus(v.composer)
		for _, piece := range strings.SplitAfter(s, " ") {
			fyne.CurrentApp().Clipboard().SetContent(piece)
			c.Focused().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutPaste{Clipboard: fyne.CurrentApp().Clipboard()})
		}
		c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		check("pasted", width, s)
	}
	if bad > 0 {
		t.Fatalf("%d of %d sends altered the text", bad, tries)
	}
}

// TestComposerEditsMatchAModel edits the composer at random (typing,
// Shift+Enter, Backspace, Delete, paste, arrows, Home and End, the window
// resized) and checks after every step that its text is what a plain
// string edited the same way holds, and that the cursor drawn is where the
// next character goes.
func TestComposerEditsMatchAModel(t *testing.T) {
	test.NewTempApp(t)
	v, f, w := openConversation(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, chatMessages(), fyne.NewSize(390, 680))
	c := w.Canvas()
	words := strings.Fields("start cardiac monitoring recheck K+ and Mg2+ in 2 h furosemide 40 mg IV NEWS2 = 7 → sats 89% ×10⁹/L bay 4 ECG troponin")
	rng := rand.New(rand.NewSource(14))
	for round := 0; round < 60; round++ {
		c.Focus(v.composer)
		var model []rune
		at := 0
		for step := 0; step < 80; step++ {
			var did string
			switch op := rng.Intn(20); {
			case op < 10:
				s := words[rng.Intn(len(words))]
				if rng.Intn(4) > 0 {
					s += " "
				}
				did = "type " + s
				typeOnCanvas(c, s)
				model = append(model[:at], append([]rune(s), model[at:]...)...)
				at += len([]rune(s))
			case op < 11:
				did = "shift+enter"
				typeOnCanvas(c, "\n")
				model = append(model[:at], append([]rune{'\n'}, model[at:]...)...)
				at++
			case op < 13:
				did = "backspace"
				c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyBackspace})
				if at > 0 {
					model = append(model[:at-1], model[at:]...)
					at--
				}
			case op < 14:
				did = "delete"
				c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
				if at < len(model) {
					model = append(model[:at], model[at+1:]...)
				}
			case op < 15:
				s := words[rng.Intn(len(words))] + " " + words[rng.Intn(len(words))] + " "
				did = "paste " + s
				fyne.CurrentApp().Clipboard().SetContent(s)
				c.Focused().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutPaste{Clipboard: fyne.CurrentApp().Clipboard()})
				model = append(model[:at], append([]rune(s), model[at:]...)...)
				at += len([]rune(s))
			case op < 18:
				keys := []fyne.KeyName{fyne.KeyLeft, fyne.KeyRight, fyne.KeyHome, fyne.KeyEnd, fyne.KeyUp, fyne.KeyDown}
				k := keys[rng.Intn(len(keys))]
				did = "key " + string(k)
				c.Focused().TypedKey(&fyne.KeyEvent{Name: k})
				// The Entry moves by rows and columns; where it lands is read
				// back, and must be a place in the text.
				at = v.composer.at
				if at < 0 || at > len(model) {
					t.Fatalf("round %d step %d: %s put the cursor at %d of %d", round, step, did, at, len(model))
				}
			default:
				width := 200 + rng.Intn(1001)
				did = "resize"
				w.Resize(fyne.NewSize(float32(width), 680))
			}
			if v.composer.Text != string(model) {
				t.Fatalf("round %d step %d after %s: composer %q, typed %q", round, step, did, v.composer.Text, string(model))
			}
			if v.composer.at != at {
				t.Fatalf("round %d step %d after %s: cursor %d, want %d in %q", round, step, did, v.composer.at, at, string(model))
			}
			// Drawn where the next character goes, or (when the text ends in
			// whitespace the wrap hides) at the end of the last row before it.
			drawn := v.composer.CursorTextOffset()
			if drawn != at && !(at == len(model) && drawn == at-1 && unicode.IsSpace(model[at-1])) {
				t.Fatalf("round %d step %d after %s: cursor drawn at %d, edits go to %d in %q", round, step, did, drawn, at, string(model))
			}
		}
		c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		want := strings.TrimSpace(string(model))
		if want == "" {
			if len(f.sent) != 0 {
				t.Fatalf("round %d: sent %q for blank text", round, f.sent)
			}
		} else if len(f.sent) != 1 || f.sent[0] != "dr.osei@rounds.test: "+want {
			t.Fatalf("round %d: sent %q, typed %q", round, f.sent, want)
		}
		f.sent = nil
		v.composer.SetText("")
	}
}
