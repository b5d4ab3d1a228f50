package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// pressEscape delivers Escape as the desktop driver does: to the focused
// widget if there is one, else to the canvas.
func pressEscape(c fyne.Canvas) {
	k := &fyne.KeyEvent{Name: fyne.KeyEscape}
	if f := c.Focused(); f != nil {
		f.TypedKey(k)
	} else if h := c.OnTypedKey(); h != nil {
		h(k)
	}
}

// Escape closes a dialog and the pop-ups (issue 14, glitch 5).
func TestEscapeClosesDialog(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewTempWindow(t, widget.NewLabel("inbox"))
	w.Resize(fyne.NewSize(390, 844))
	closeOnEscape(w.Canvas())
	dialog.ShowInformation("Shift ended", "Handed over.", w)
	if w.Canvas().Overlays().Top() == nil {
		t.Fatal("no dialog shown")
	}
	pressEscape(w.Canvas())
	if w.Canvas().Overlays().Top() != nil {
		t.Fatal("dialog still open after Escape")
	}
	pressEscape(w.Canvas()) // nothing left to close: no panic
}

// Escape closes the image viewer like its close button (the picture is
// dropped, the conversation has no viewer any more), also when the
// composer under it had the cursor.
func TestEscapeClosesViewer(t *testing.T) {
	test.NewTempApp(t)
	v, _, w := openFiles(t, fileMessages(), fyne.NewSize(900, 640))
	closeOnEscape(w.Canvas())
	var c *attachmentCellView
	waitFor(func() bool { c = cellFor(v, "a1"); return c != nil && c.img.Image != nil })
	// The composer has the cursor when the picture is opened: the viewer
	// on top of it still closes on Escape.
	w.Canvas().Focus(v.composer)
	test.Tap(c)
	if !waitFor(func() bool { return v.viewer != nil && v.viewer.image.Image != nil }) {
		t.Fatal("viewer shows no picture")
	}
	vw := v.viewer
	pressEscape(w.Canvas())
	if v.viewer != nil || w.Canvas().Overlays().Top() != nil {
		t.Fatal("viewer still open after Escape")
	}
	if vw.image.Image != nil {
		t.Fatal("closed viewer keeps the decoded picture")
	}
}

// Escape typed into a dialog's focused text field closes the dialog, in
// every dialog that has one (issue 14, glitch 5): Fyne gives the key to the
// focused field only, so the window's Escape never saw it. Each dialog's
// text fields are all fields (no plain Entry that would keep Escape).
func TestEscapeClosesDialogFromItsField(t *testing.T) {
	own, in := app.MessageID(26), app.MessageID(27) // clinicalChat: own corrected, incoming urgent
	conversation := func(label string, id app.MessageID) func(t *testing.T) fyne.Window {
		return func(t *testing.T) fyne.Window {
			a := &replyingActions{clinicalActions: newClinicalActions()}
			v, _, w := openConversationWith(t, ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei"}, clinicalChat(), a, fyne.NewSize(960, 680))
			closeOnEscape(w.Canvas())
			runAction(t, v.rowActions(rowByID(v, id)), label)
			return w
		}
	}
	for name, open := range map[string]func(t *testing.T) fyne.Window{
		"reply":            conversation("Reply…", in),
		"reply with quote": conversation("Reply with quote…", in),
		"correct":          conversation("Correct…", own),
		"forward": func(t *testing.T) fyne.Window {
			f := &forwardingActions{clinicalActions: newClinicalActions()}
			rows := forwardedMessages()
			v := NewConversationView(oseiInfo(ConversationInfo{}), rows, f)
			w := test.NewTempWindow(t, v)
			w.Resize(fyne.NewSize(390, 844))
			closeOnEscape(w.Canvas())
			runAction(t, v.rowActions(rows[2]), "Forward…")
			return w
		},
		"broadcast": func(t *testing.T) fyne.Window {
			v := NewDirectoryView(contacts(), &broadcastingActions{fakeActions: &fakeActions{}})
			w := test.NewTempWindow(t, v)
			w.Resize(fyne.NewSize(390, 844))
			closeOnEscape(w.Canvas())
			test.Tap(buttonIn(v, "Broadcast"))
			return w
		},
		"new care team": func(t *testing.T) fyne.Window {
			v := NewDirectoryView(nil, &creatingActions{fakeActions: &fakeActions{}})
			w := test.NewTempWindow(t, v)
			w.Resize(fyne.NewSize(900, 640))
			closeOnEscape(w.Canvas())
			v.showJoin()
			test.Tap(buttonIn(v.popup.Content, "New care team…"))
			return w
		},
		"join room": func(t *testing.T) fyne.Window {
			v := NewDirectoryView(nil, &fakeActions{})
			w := test.NewTempWindow(t, v)
			w.Resize(fyne.NewSize(390, 844))
			closeOnEscape(w.Canvas())
			v.showJoin()
			return w
		},
		"do not disturb": func(t *testing.T) fyne.Window {
			w := test.NewTempWindow(t, widget.NewLabel("inbox"))
			w.Resize(fyne.NewSize(390, 844))
			closeOnEscape(w.Canvas())
			ShowDNDDialog(w.Canvas(), &dndActions{fakeActions: &fakeActions{}})
			return w
		},
		"role message": func(t *testing.T) fyne.Window {
			v := newRolesView(newClinicalActions())
			w := test.NewTempWindow(t, v)
			w.Resize(fyne.NewSize(960, 680))
			closeOnEscape(w.Canvas())
			v.compose(clinicalRoles()[0])
			return w
		},
		"change PIN": func(t *testing.T) fyne.Window {
			w := test.NewTempWindow(t, widget.NewLabel("settings"))
			w.Resize(fyne.NewSize(390, 844))
			closeOnEscape(w.Canvas())
			ShowChangePIN(w.Canvas(), func(string, string) error { return nil }, 6, "", nil)
			return w
		},
		"wipe": func(t *testing.T) fyne.Window {
			s := NewShell(&fakeActions{}, settingsState())
			w := test.NewTempWindow(t, s.Content())
			w.Resize(fyne.NewSize(960, 680))
			closeOnEscape(w.Canvas())
			test.Tap(buttonNamed(t, s.Settings, "Wipe this device"))
			return w
		},
	} {
		t.Run(name, func(t *testing.T) {
			test.NewTempApp(t)
			// Each field in turn, in a dialog opened afresh.
			for i, n := 0, 1; i < n; i++ {
				w := open(t)
				top := w.Canvas().Overlays().Top()
				if top == nil {
					t.Fatal("no dialog")
				}
				fields := dialogFields(t, top)
				if n = len(fields); n == 0 {
					t.Fatal("the dialog has no text field")
				}
				f := fields[i]
				w.Canvas().Focus(f.Focusable)
				if f.MultiLine && f.Text != "" {
					// Opened with text (Correct…) and not edited:
					// nothing typed to lose, Escape closes.
					pressEscape(w.Canvas())
					if w.Canvas().Overlays().Top() == top {
						t.Fatalf("dialog opened with %q in its field %d still open after Escape", f.Text, i)
					}
					w = open(t)
					top = w.Canvas().Overlays().Top()
					f = dialogFields(t, top)[i]
					w.Canvas().Focus(f.Focusable)
				}
				if w.Canvas().Focused() != f.Focusable {
					t.Fatalf("field %d not focused", i)
				}
				test.Type(f.Focusable, "ab")
				if f.MultiLine {
					// Typed words are not thrown away by one key
					// (holdsTypedText); once cleared, Escape closes.
					pressEscape(w.Canvas())
					if w.Canvas().Overlays().Top() != top {
						t.Fatalf("Escape closed the dialog with %q typed into its field %d (%q)", f.Text, i, f.PlaceHolder)
					}
					f.Focusable.(interface{ SetText(string) }).SetText("")
				}
				pressEscape(w.Canvas())
				if w.Canvas().Overlays().Top() == top {
					t.Fatalf("dialog still open after Escape typed into its field %d (%T)", i, f.Focusable)
				}
			}
		})
	}
}

// Escape at an open STAT alert neither responds to it nor hides it, with the
// cursor in its reply or nowhere: the alert is not a dialog, only
// Acknowledge (or a response) ends it.
func TestEscapeLeavesTheAlert(t *testing.T) {
	test.NewTempApp(t)
	f := newClinicalActions()
	s := NewShell(f, settingsState())
	w := test.NewTempWindow(t, s.Content())
	w.Resize(fyne.NewSize(390, 844))
	closeOnEscape(w.Canvas())
	s.SetAlerts([]AlertItem{clinicalAlert()})
	pressEscape(w.Canvas())
	w.Canvas().Focus(s.Alert.reply)
	test.Type(s.Alert.reply, "on my way")
	pressEscape(w.Canvas())
	if !s.Alert.Visible() {
		t.Fatal("Escape hid the alert")
	}
	if s.Alert.reply.Text != "on my way" {
		t.Fatalf("the alert's reply after Escape: %q", s.Alert.reply.Text)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.calls {
		if strings.HasPrefix(c, "respond ") {
			t.Fatalf("Escape responded to the alert: %q", c)
		}
	}
}

// dialogField is a text field of a dialog: a field, or the exact clinical
// entry (newClinicalField), with the Entry both are made of.
type dialogField struct {
	fyne.Focusable
	*widget.Entry
}

// dialogFields lists the text fields of a dialog, and reports a plain
// Entry (which would keep Escape) as an error.
func dialogFields(t *testing.T, top fyne.CanvasObject) []dialogField {
	t.Helper()
	var fields []dialogField
	walk(top, func(o fyne.CanvasObject) {
		switch f := o.(type) {
		case *field:
			fields = append(fields, dialogField{f, &f.Entry})
		case *composerEntry: // newClinicalField
			fields = append(fields, dialogField{f, &f.Entry})
		case *widget.Entry:
			t.Errorf("a plain Entry in the dialog (placeholder %q) keeps Escape", f.PlaceHolder)
		}
	})
	return fields
}
