package ui

import (
	"errors"
	"fmt"
	"io"
	"regexp"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// The audit log answers "who did what on this device, when" for a HIPAA
// review: Settings shows it with whether its hash chain verifies, and
// exports it (JSON or CSV, with the hashes, checkable by `rounds audit
// verify`) through the app, which audits the export itself.

// AuditActions is what the audit viewer asks of the app.
type AuditActions interface {
	AuditEntries() ([]app.AuditRow, error)
	AuditIntact() error
	ExportAudit(w io.Writer, format string) error
}

var brokenEntry = regexp.MustCompile(`entry (\d+)`)

// chainText is the viewer's verdict line.
func chainText(n int, err error) string {
	switch {
	case err == nil:
		return fmt.Sprintf("✓ Chain verified: %d entries, none changed or removed", n)
	case errors.Is(err, app.ErrAuditTampered):
		if m := brokenEntry.FindStringSubmatch(err.Error()); m != nil {
			return "✗ Chain broken at entry " + m[1] + ": an entry was changed or removed"
		}
		return "✗ Chain broken: " + err.Error()
	}
	return "Could not verify the chain: " + err.Error()
}

// AuditView lists the audit log, newest first.
type AuditView struct {
	widget.BaseWidget
	actions AuditActions
	// OnClose, when set, shows a Close button.
	OnClose func()

	rows   []app.AuditRow
	broken uint64 // the entry where the chain breaks (0: none known)
	chain  *widget.Label
	status *widget.Label
	list   *widget.List
}

// NewAuditView loads and shows the log.
func NewAuditView(actions AuditActions) *AuditView {
	v := &AuditView{actions: actions}
	v.ExtendBaseWidget(v)
	v.chain = widget.NewLabel("")
	v.chain.Wrapping = fyne.TextWrapWord
	v.chain.TextStyle.Bold = true
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.status.Hide()
	v.list = widget.NewList(func() int { return len(v.rows) }, newAuditRow, func(id widget.ListItemID, o fyne.CanvasObject) {
		if id < len(v.rows) {
			e := v.rows[len(v.rows)-1-id]
			o.(*auditRow).bind(e, v.broken != 0 && e.Seq == v.broken)
		}
	})
	v.Reload()
	return v
}

// Reload reads the log again and verifies it.
func (v *AuditView) Reload() {
	rows, err := v.actions.AuditEntries()
	if err != nil {
		v.rows = nil
		v.chain.SetText("Audit log unavailable: " + err.Error())
		v.chain.Importance = widget.DangerImportance
		v.chain.Refresh()
		v.list.Refresh()
		return
	}
	v.rows = rows
	ierr := v.actions.AuditIntact()
	v.chain.SetText(chainText(len(rows), ierr))
	v.broken = 0
	if ierr != nil {
		if m := brokenEntry.FindStringSubmatch(ierr.Error()); m != nil {
			fmt.Sscan(m[1], &v.broken)
		}
	}
	if ierr != nil {
		v.chain.Importance = widget.DangerImportance
	} else {
		v.chain.Importance = widget.SuccessImportance
	}
	v.chain.Refresh()
	v.list.Refresh()
}

// ChainText is the verdict shown.
func (v *AuditView) ChainText() string { return v.chain.Text }

func (v *AuditView) export(format string) {
	saveExport(v, "rounds-audit."+format, func(w io.Writer) error {
		return v.actions.ExportAudit(w, format)
	}, func(msg string, err error) {
		if err != nil {
			v.status.SetText("Export: " + err.Error())
			v.status.Importance = widget.DangerImportance
		} else {
			v.status.SetText(msg + ". Check it with: rounds audit verify FILE")
			v.status.Importance = widget.MediumImportance
		}
		v.status.Show()
		v.Reload() // the export is itself an entry now
	})
}

func (v *AuditView) CreateRenderer() fyne.WidgetRenderer {
	title := widget.NewLabelWithStyle("Audit log", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	buttons := container.NewGridWithColumns(2,
		widget.NewButtonWithIcon("Export JSON", theme.DocumentSaveIcon(), func() { v.export("json") }),
		widget.NewButtonWithIcon("Export CSV", theme.DocumentSaveIcon(), func() { v.export("csv") }))
	bottom := container.NewVBox(v.status, buttons)
	if v.OnClose != nil {
		bottom.Add(widget.NewButton("Close", v.OnClose))
	}
	return widget.NewSimpleRenderer(container.NewBorder(container.NewVBox(title, v.chain, widget.NewSeparator()), bottom, nil, nil, v.list))
}

type auditRow struct {
	widget.BaseWidget
	head, detail *widget.Label
}

func newAuditRow() fyne.CanvasObject {
	r := &auditRow{head: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), detail: widget.NewLabel("")}
	r.head.SizeName = theme.SizeNameCaptionText
	r.detail.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (r *auditRow) bind(e app.AuditRow, broken bool) {
	head := fmt.Sprintf("#%d · %s · %s", e.Seq, e.Time.Local().Format("2 Jan 2006 15:04:05"), e.Kind)
	r.head.Importance = widget.MediumImportance
	if broken {
		head = "✗ The chain breaks here · " + head
		r.head.Importance = widget.DangerImportance
	}
	r.head.SetText(head)
	r.detail.SetText(e.Detail)
}

func (r *auditRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), r.head, r.detail))
}

// auditSection is Settings' entry to the viewer (nothing when the actions
// have no audit log).
func (s *settingsScreen) auditSection() fyne.CanvasObject {
	aa, ok := s.actions.(AuditActions)
	if !ok {
		return container.NewStack()
	}
	help := widget.NewLabel("Every sign-in, unlock failure, recall, acknowledgement, policy change and export on this device, in a tamper-evident chain.")
	help.Wrapping = fyne.TextWrapWord
	help.SizeName = theme.SizeNameCaptionText
	open := widget.NewButtonWithIcon("View audit log", theme.ListIcon(), func() { s.showAudit(aa) })
	return container.NewVBox(widget.NewSeparator(), section("Audit", help, open))
}

func (s *settingsScreen) showAudit(aa AuditActions) {
	c := fyne.CurrentApp().Driver().CanvasForObject(s.root)
	if c == nil {
		return
	}
	v := NewAuditView(aa)
	var pop *widget.PopUp
	v.OnClose = func() { pop.Hide() }
	pop = widget.NewModalPopUp(container.NewPadded(v), c)
	size := c.Size()
	if size.Width < PhoneWidth {
		pop.Resize(size)
	} else {
		pop.Resize(fyne.NewSize(min(size.Width-4*theme.Padding(), 720), size.Height-4*theme.Padding()))
	}
	s.popup = pop
	pop.Show()
}
