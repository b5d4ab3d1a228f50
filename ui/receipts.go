package ui

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// Receipts on screen: the tick beside an outgoing message's time, and the
// table (per member in rooms) behind it.

// showReceipt opens the detail view of one message's receipts.
func (v *ConversationView) showReceipt(r app.MessageRow) {
	c := fyne.CurrentApp().Driver().CanvasForObject(v)
	if c == nil {
		return
	}
	content := container.NewVBox()
	add := func(o fyne.CanvasObject) { content.Add(o) }
	add(widget.NewLabelWithStyle("Message details", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	add(widget.NewLabel("Written " + r.Timestamp.Local().Format(stampFormat)))
	add(receiptTable(r.Receipt))
	if len(r.Members) > 0 {
		names := make([]string, 0, len(r.Members))
		for n := range r.Members {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			add(widget.NewSeparator())
			add(widget.NewLabelWithStyle(n, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
			add(receiptTable(r.Members[n]))
		}
	}
	var pop *widget.PopUp
	closeBtn := widget.NewButton("Close", func() { pop.Hide() })
	body := container.NewBorder(nil, closeBtn, nil, nil, container.NewVScroll(content))
	pop = widget.NewModalPopUp(container.NewPadded(body), c)
	size := c.Size()
	pop.Resize(fyne.NewSize(min(size.Width-2*theme.Padding(), 420), min(size.Height*0.8, content.MinSize().Height+closeBtn.MinSize().Height+4*theme.Padding())))
	v.popup = pop
	pop.Show()
}

// receiptTable lists every state with its time ("—" when not reached).
func receiptTable(r app.Receipt) fyne.CanvasObject {
	form := container.New(layout.NewFormLayout())
	for _, s := range receiptOrder {
		if s == app.ReceiptFailed && r.State != app.ReceiptFailed {
			continue
		}
		at := "—"
		if t := r.At[s]; !t.IsZero() {
			at = t.Local().Format(stampFormat)
		}
		if s == app.ReceiptFailed && r.Reason != "" {
			at += " · " + r.Reason
		}
		name := widget.NewLabel(app.ReceiptStateName(s))
		val := widget.NewLabel(at)
		val.Wrapping = fyne.TextWrapWord
		form.Add(name)
		form.Add(val)
	}
	return form
}

func tickIcon(s app.ReceiptState) fyne.Resource {
	switch s {
	case app.ReceiptQueued:
		return tickQueued
	case app.ReceiptSent:
		return tickSent
	case app.ReceiptDelivered:
		return tickDelivered
	case app.ReceiptRead:
		return tickRead
	case app.ReceiptAcknowledged:
		return tickAcked
	case app.ReceiptFailed:
		return tickFailed
	}
	return nil
}
