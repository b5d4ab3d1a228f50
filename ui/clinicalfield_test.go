package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// TestClinicalDialogsKeepWhatWasTyped types clinical sentences into the
// text field of every dialog that sends clinical text (Reply…, Reply with
// quote…, Correct…, a role message, the do-not-disturb reply, a broadcast)
// at window widths from phone to desktop, and checks the field holds
// exactly what was typed. These were plain word-wrapping Entries, which
// move a space typed where a line wraps (issue 14 item 1: the composer was
// fixed, the dialogs were not).
func TestClinicalDialogsKeepWhatWasTyped(t *testing.T) {
	own, in := app.MessageID(26), app.MessageID(27) // clinicalChat: own corrected, incoming urgent
	conversation := func(label string, id app.MessageID) func(t *testing.T, size fyne.Size) fyne.Window {
		return func(t *testing.T, size fyne.Size) fyne.Window {
			a := &replyingActions{clinicalActions: newClinicalActions()}
			v, _, w := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, clinicalChat(), a, size)
			runAction(t, v.rowActions(rowByID(v, id)), label)
			return w
		}
	}
	dialogs := map[string]func(t *testing.T, size fyne.Size) fyne.Window{
		"reply":            conversation("Reply…", in),
		"reply with quote": conversation("Reply with quote…", in),
		"correct":          conversation("Correct…", own),
		"broadcast": func(t *testing.T, size fyne.Size) fyne.Window {
			v := NewDirectoryView(contacts(), &broadcastingActions{fakeActions: &fakeActions{}})
			w := test.NewTempWindow(t, v)
			w.Resize(size)
			test.Tap(buttonIn(v, "Broadcast"))
			return w
		},
		"do not disturb": func(t *testing.T, size fyne.Size) fyne.Window {
			w := test.NewTempWindow(t, widget.NewLabel("inbox"))
			w.Resize(size)
			ShowDNDDialog(w.Canvas(), &dndActions{fakeActions: &fakeActions{}})
			return w
		},
		"role message": func(t *testing.T, size fyne.Size) fyne.Window {
			v := newRolesView(newClinicalActions())
			w := test.NewTempWindow(t, v)
			w.Resize(size)
			v.compose(clinicalRoles()[0])
			return w
		},
	}
	for name, open := range dialogs {
		t.Run(name, func(t *testing.T) {
			test.NewTempApp(t)
			bad, tries := 0, 0
			for width := 300; width <= 960; width += 60 {
				w := open(t, fyne.NewSize(float32(width), 844))
				top := w.Canvas().Overlays().Top()
				if top == nil {
					t.Fatal("no dialog")
				}
				var e *composerEntry
				walk(top, func(o fyne.CanvasObject) {
					if c, ok := o.(*composerEntry); ok && e == nil {
						e = c
					}
				})
				if e == nil {
					t.Fatal("the dialog's text field is not the exact clinical field")
				}
				for _, s := range clinicalSentences {
					e.SetText("")
					w.Canvas().Focus(e)
					typeOnCanvas(w.Canvas(), s)
					tries++
					if e.Text != s {
						bad++
						if bad <= 3 {
							t.Errorf("width %d: the field holds %q, typed %q", width, e.Text, s)
						}
					}
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d typed texts altered", bad, tries)
			}
		})
	}
}
