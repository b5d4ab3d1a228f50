package ui

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// An urgent message must not be missed: while the app lists an alert
// (Client.Alerts) the shell is covered by it — on a desktop a card over the
// dimmed window, on a phone a full-screen sheet, framed and headed in the
// level's colour — with the message in the largest type, who sent it under
// it and the quick responses one tap away. It lives inside the unlocked
// shell, so locking the app (which replaces the shell
// with the unlock screen) takes it and the message text away; the OS
// notification and the repeating sound are the app's. It goes when the app
// says the alert stopped (acknowledged or read here or on another device).
// "Call me", "5 minutes" and "Open conversation" put it aside until its
// next repeat.

// AlertActions is what the alert asks of the app.
type AlertActions interface {
	Respond(conv string, msg app.MessageID, kind app.ResponseKind, text string) error
	Open(conv string)
}

// AlertItem is an open alert with the text of its message (read while
// unlocked; empty if unavailable).
type AlertItem struct {
	app.Alert
	Body string
}

// AlertView is the overlay drawing the first open alert.
type AlertView struct {
	widget.BaseWidget
	actions AlertActions
	levels  app.UrgencyLevelNames
	// OnOpen runs after "Open conversation" (the shell navigates).
	OnOpen func(conv string)

	items []AlertItem
	// aside: alerts put aside, by message, with the repeat count they had.
	aside map[app.MessageID]int
	cur   *AlertItem
	busy  bool

	dim, band         *canvas.Rectangle
	level, from, role *canvas.Text
	where             *canvas.Text
	// face and job stand for the sender: their avatar and the job title
	// their card claims (hidden when it says none).
	face           *avatar
	job            *canvas.Text
	repeats, since *canvas.Text
	body           *widget.Label
	reply          *widget.Entry
	status         *widget.Label
	buttons        map[app.ResponseKind]*widget.Button
	send, open     *widget.Button
	count          *widget.Label
	card           *fyne.Container
	head           *fyne.Container
	middle         *fyne.Container // the text and who sent it, scrolled when long
}

// NewAlertView builds the (hidden) overlay.
func NewAlertView(actions AlertActions) *AlertView {
	v := &AlertView{actions: actions, aside: map[app.MessageID]int{}, buttons: map[app.ResponseKind]*widget.Button{}}
	v.ExtendBaseWidget(v)
	v.dim = canvas.NewRectangle(color.NRGBA{A: 0xC0})
	v.band = canvas.NewRectangle(color.Black)
	big := func(size float32, bold bool) *canvas.Text {
		t := canvas.NewText("", color.White)
		t.TextSize = size
		t.TextStyle.Bold = bold
		t.Alignment = fyne.TextAlignCenter
		return t
	}
	ts := theme.TextSize()
	v.level = big(ts*alertScale.level, true)
	v.repeats = big(ts*alertScale.repeats, false)
	v.since = big(ts*alertScale.repeats, false)
	// Who and where sit under the text, in the card's own colours.
	who := func(size float32, bold bool) *canvas.Text {
		t := big(size, bold)
		t.Alignment = fyne.TextAlignLeading
		return t
	}
	v.from = who(ts*alertScale.from, true)
	v.role = who(ts*alertScale.from, false)
	v.where = who(ts*alertScale.from, false)
	v.job = who(ts*alertScale.from, false)
	v.face = newAvatar(themedPerson)
	// The clinical text is the largest thing on the card.
	v.body = widget.NewLabel("")
	v.body.Wrapping = fyne.TextWrapWord
	v.body.TextStyle.Bold = true
	v.body.SizeName = theme.SizeNameHeadingText
	v.reply = widget.NewEntry()
	v.reply.SetPlaceHolder("Reply…")
	v.reply.OnSubmitted = func(string) { v.sendReply() }
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.status.Importance = widget.DangerImportance
	v.status.Hide()
	for _, k := range []app.ResponseKind{app.ResponseAck, app.ResponseDecline, app.ResponseCallMe, app.ResponseFiveMinutes} {
		b := widget.NewButton(responseButton(k), func() { v.respond(k, "") })
		v.buttons[k] = b
	}
	v.buttons[app.ResponseAck].Importance = widget.HighImportance
	v.buttons[app.ResponseAck].SetIcon(theme.ConfirmIcon())
	v.send = widget.NewButtonWithIcon("", theme.MailSendIcon(), v.sendReply)
	v.open = widget.NewButtonWithIcon("Open conversation", theme.MailComposeIcon(), v.openConversation)
	v.open.Importance = widget.LowImportance
	v.count = widget.NewLabel("")
	v.count.Alignment = fyne.TextAlignCenter
	v.Hide()
	return v
}

// SetLevels sets the levels' display names (the org policy's).
func (v *AlertView) SetLevels(l app.UrgencyLevelNames) { v.levels = l; v.show() }

// SetAlerts replaces the open alerts (Client.Alerts, newest first).
func (v *AlertView) SetAlerts(items []AlertItem) {
	v.items = items
	live := map[app.MessageID]bool{}
	for _, it := range items {
		live[it.Message] = true
	}
	for id := range v.aside {
		if !live[id] {
			delete(v.aside, id)
		}
	}
	v.busy = false
	v.show()
}

// Current is the alert shown, if any.
func (v *AlertView) Current() (AlertItem, bool) {
	if v.cur == nil {
		return AlertItem{}, false
	}
	return *v.cur, true
}

// visible lists the alerts not put aside (an alert put aside comes back
// at its next repeat).
func (v *AlertView) visible() []AlertItem {
	var out []AlertItem
	for _, it := range v.items {
		if n, ok := v.aside[it.Message]; ok && it.Repeats <= n {
			continue
		}
		out = append(out, it)
	}
	return out
}

func (v *AlertView) show() {
	vis := v.visible()
	if len(vis) == 0 {
		v.cur = nil
		v.Hide()
		return
	}
	it := vis[0]
	changed := v.cur == nil || v.cur.Message != it.Message
	v.cur = &it
	if changed {
		v.reply.SetText("")
		v.status.Hide()
	}
	level := v.levels.Name(it.Urgency)
	if it.Urgency == app.UrgencyNormal {
		level = "Ack requested"
	}
	v.level.Text = strings.ToUpper(level)
	v.from.Text = "From " + it.From
	if !it.Since.IsZero() {
		v.from.Text += " · " + clock(it.Since)
	}
	v.face.set(it.FromAvatar, themedPerson)
	v.job.Text = it.FromTitle
	v.job.Hidden = it.FromTitle == ""
	// A page to an on-call role reached this user as its holder: say so,
	// or they may take it for a personal message.
	v.role.Text = ""
	v.role.Hide()
	if it.Role != "" {
		v.role.Text = "to you as " + it.Role
		v.role.Show()
	}
	v.where.Text = ""
	v.where.Hide()
	if it.Title != "" && it.Title != it.From {
		v.where.Text = "in " + it.Title
		v.where.Show()
	}
	rep := "Repeats until read"
	if it.AckRequired {
		rep = "Repeats until acknowledged"
	}
	since := ""
	if it.Repeats > 0 {
		since = fmt.Sprintf("Alerted %d times since %s", it.Repeats+1, clock(it.Since))
	} else if !it.Since.IsZero() {
		since = "Since " + clock(it.Since)
	}
	v.repeats.Text = rep
	v.since.Text = since
	body := it.Body
	if body == "" {
		body = "Open the conversation to read the message."
	}
	v.body.SetText(body)
	bg := theme.Color(urgencyColorName(it.Urgency))
	on := theme.Color(urgencyOnColorName(it.Urgency))
	v.band.FillColor = bg
	for _, t := range []*canvas.Text{v.level, v.repeats, v.since} {
		t.Color = on
		t.Refresh()
	}
	for _, t := range []*canvas.Text{v.from, v.job, v.role, v.where} {
		t.Color = theme.Color(theme.ColorNameForeground)
		t.Refresh()
	}
	v.band.Refresh()
	if len(vis) > 1 {
		v.count.SetText(fmt.Sprintf("1 of %d urgent alerts", len(vis)))
		v.count.Show()
	} else {
		v.count.Hide()
	}
	for _, b := range v.buttons {
		if v.busy {
			b.Disable()
		} else {
			b.Enable()
		}
	}
	v.Show()
	v.Refresh()
}

// respond forwards a quick response; "Call me" and "5 minutes" also put
// the alert aside until its next repeat (the app keeps it open).
func (v *AlertView) respond(k app.ResponseKind, text string) {
	if v.cur == nil || v.busy {
		return
	}
	it := *v.cur
	v.busy = true
	for _, b := range v.buttons {
		b.Disable()
	}
	v.status.Hide()
	go func() {
		err := v.actions.Respond(it.Conversation, it.Message, k, text)
		doUI(func() {
			v.busy = false
			if err != nil {
				v.status.SetText(responseButton(k) + " not sent: " + err.Error())
				v.status.Show()
				v.show()
				return
			}
			if k == app.ResponseText {
				v.reply.SetText("")
			}
			if k != app.ResponseAck && k != app.ResponseDecline {
				v.aside[it.Message] = it.Repeats
			}
			v.show()
		})
	}()
}

func (v *AlertView) sendReply() {
	text := strings.TrimSpace(v.reply.Text)
	if text == "" {
		v.status.SetText("Write a reply first")
		v.status.Show()
		return
	}
	v.respond(app.ResponseText, text)
}

func (v *AlertView) openConversation() {
	if v.cur == nil {
		return
	}
	it := *v.cur
	v.aside[it.Message] = it.Repeats
	v.show()
	v.actions.Open(it.Conversation)
	if v.OnOpen != nil {
		v.OnOpen(it.Conversation)
	}
}

// alertScale sizes the card's lines against the theme's text size: the
// message itself (heading size) is the largest, then the level, then who
// sent it, then the repeat lines.
var alertScale = struct{ level, from, repeats float32 }{level: 1.5, from: 1.1, repeats: 0.95}

func (v *AlertView) CreateRenderer() fyne.WidgetRenderer {
	v.head = container.NewVBox(v.level, v.repeats, v.since)
	// The canvas texts line up with the label's text, inside its padding.
	who := container.New(layout.NewCustomPaddedLayout(0, 0, theme.InnerPadding(), theme.InnerPadding()), container.NewBorder(nil, nil, container.NewVBox(v.face), nil, container.NewVBox(v.from, v.role, v.job, v.where)))
	v.middle = container.NewVBox(v.body, who)
	grid := container.NewGridWithColumns(2,
		v.buttons[app.ResponseAck], v.buttons[app.ResponseDecline],
		v.buttons[app.ResponseCallMe], v.buttons[app.ResponseFiveMinutes])
	panel := container.NewVBox(grid, container.NewBorder(nil, nil, nil, v.send, v.reply), v.status, v.open, v.count)
	panelBg := canvas.NewRectangle(theme.Color(theme.ColorNameBackground))
	panelBg.StrokeWidth = 4
	v.card = container.New(&alertCardLayout{v: v}, panelBg, v.band, container.NewPadded(v.head),
		container.NewVScroll(container.NewPadded(v.middle)), container.NewPadded(panel))
	return &alertRenderer{v: v, objs: []fyne.CanvasObject{v.dim, v.card}, panelBg: panelBg}
}

type alertRenderer struct {
	v       *AlertView
	objs    []fyne.CanvasObject
	panelBg *canvas.Rectangle
}

func (r *alertRenderer) Layout(size fyne.Size) {
	v := r.v
	r.v.dim.Resize(size)
	r.v.dim.Move(fyne.NewPos(0, 0))
	phone := size.Width < PhoneWidth
	width := size.Width
	if !phone {
		width = min(560, size.Width-8*theme.Padding())
	}
	// Long names shrink to fit rather than run off the card.
	ts := theme.TextSize()
	face := float32(0) // the sender's avatar stands left of the who lines
	if v.face.Visible() {
		face = v.face.MinSize().Width + theme.Padding()
	}
	for _, f := range []struct {
		t     *canvas.Text
		scale float32
	}{{v.level, alertScale.level}, {v.from, alertScale.from}, {v.job, alertScale.from}, {v.role, alertScale.from}, {v.where, alertScale.from}, {v.repeats, alertScale.repeats}, {v.since, alertScale.repeats}} {
		w := width - 4*theme.Padding()
		if f.t == v.from || f.t == v.job || f.t == v.role || f.t == v.where {
			w -= face
		}
		fitText(f.t, ts*f.scale, w)
	}
	// The wrapped text knows its height once it has its width.
	v.middle.Resize(fyne.NewSize(width-2*theme.Padding(), v.middle.MinSize().Height))
	var cs fyne.Size
	var pos fyne.Position
	if phone {
		cs, pos = size, fyne.NewPos(0, 0) // a full-screen sheet
		v.dim.Hide()
	} else {
		v.dim.Show()
		cs = fyne.NewSize(width, min(size.Height-8*theme.Padding(), v.card.MinSize().Height))
		pos = fyne.NewPos((size.Width-cs.Width)/2, (size.Height-cs.Height)/2)
	}
	v.card.Resize(cs)
	v.card.Move(pos)
}

// fitText sets t's size to size, or smaller until it fits maxW.
func fitText(t *canvas.Text, size, maxW float32) {
	t.TextSize = size
	for t.TextSize > 8 && fyne.MeasureText(t.Text, t.TextSize, t.TextStyle).Width > maxW {
		t.TextSize *= 0.9
	}
}

func (r *alertRenderer) MinSize() fyne.Size           { return fyne.NewSize(0, 0) }
func (r *alertRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *alertRenderer) Destroy()                     {}
func (r *alertRenderer) Refresh() {
	r.panelBg.FillColor = theme.Color(theme.ColorNameBackground)
	r.panelBg.StrokeColor = r.v.band.FillColor
	r.panelBg.Refresh()
	r.Layout(r.v.Size())
	canvas.Refresh(r.v)
}

// alertCardLayout: a slim band in the level's colour (the level, how often
// it has sounded), then the message in large type with who sent it, then
// the responses, at the bottom on a phone where the thumb is. The card is
// framed in the level's colour; the free height of a phone sheet is the
// card's background, not the band.
type alertCardLayout struct{ v *AlertView }

func (l *alertCardLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h, p := objs[2].MinSize(), objs[4].MinSize()
	m := l.v.middle.MinSize()
	m.Height += 2 * theme.Padding()
	return fyne.NewSize(max(h.Width, p.Width, m.Width), h.Height+m.Height+p.Height)
}

func (l *alertCardLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	bg, band, head, middle, panel := objs[0], objs[1], objs[2], objs[3], objs[4]
	bg.Move(fyne.NewPos(0, 0))
	bg.Resize(size)
	hh := head.MinSize().Height
	band.Move(fyne.NewPos(0, 0))
	band.Resize(fyne.NewSize(size.Width, hh))
	head.Move(fyne.NewPos(0, 0))
	head.Resize(fyne.NewSize(size.Width, hh))
	ph := panel.MinSize().Height
	panel.Move(fyne.NewPos(0, size.Height-ph))
	panel.Resize(fyne.NewSize(size.Width, ph))
	middle.Move(fyne.NewPos(0, hh))
	middle.Resize(fyne.NewSize(size.Width, max(0, size.Height-hh-ph)))
}

// Tapped swallows taps on the overlay, so nothing under it is touched
// while an alert is up.
func (v *AlertView) Tapped(*fyne.PointEvent) {}

// noAlertActions stands in when the shell's actions cannot respond.
type noAlertActions struct{ open func(string) }

func (noAlertActions) Respond(string, app.MessageID, app.ResponseKind, string) error {
	return app.ErrUnknownResponse
}
func (n noAlertActions) Open(conv string) { n.open(conv) }

// initClinical adds the alert overlay over the shell.
func (s *Shell) initClinical() {
	var aa AlertActions = noAlertActions{open: s.actions.Open}
	if a, ok := s.actions.(AlertActions); ok {
		aa = a
	}
	s.Alert = NewAlertView(aa)
	s.Alert.OnOpen = func(conv string) {
		s.ShowConversation(ConversationInfo{ID: conv, Title: conv}, nil, false)
	}
	s.outer = container.NewStack(s.body, s.Alert)
}

// SetAlerts shows the open alerts (Client.Alerts) over the shell.
func (s *Shell) SetAlerts(items []AlertItem) { s.Alert.SetAlerts(items) }

// SetLevels sets the urgency levels' display names everywhere.
func (s *Shell) SetLevels(l app.UrgencyLevelNames) {
	s.levels = l
	s.Alert.SetLevels(l)
	if s.conv != nil {
		s.conv.SetLevels(l)
	}
	s.Directory.SetLevels(l)
	s.Inbox.SetLevels(l)
}

// refreshAlerts shows the Client's open alerts over the shell, each with
// its message's text (read only while unlocked: a locked Client lists none).
func (c *Controller) refreshAlerts(cl *app.Client) {
	alerts := cl.Alerts()
	items := make([]AlertItem, len(alerts))
	for i, a := range alerts {
		items[i] = AlertItem{Alert: a}
		if rows, err := cl.Messages(a.Conversation, pageSize); err == nil {
			for _, r := range rows {
				if r.ID == a.Message {
					items[i].Body = r.Body
				}
			}
		}
	}
	doUI(func() {
		if s := c.currentShell(); s != nil && !cl.Locked() {
			s.SetAlerts(items)
		}
	})
}

// refreshClinical loads what the clinical screens show: level names,
// roles, alerts.
func (c *Controller) refreshClinical(cl *app.Client) {
	c.refreshPolicy(cl)
	c.refreshRoles(cl)
	c.refreshAlerts(cl)
}

func (c *Controller) refreshPolicy(cl *app.Client) {
	levels := cl.Policy().Levels
	settings := c.settingsState(cl)
	doUI(func() {
		if s := c.currentShell(); s != nil {
			s.SetLevels(levels)
			s.SetSettings(settings)
		}
	})
}

func (c *Controller) refreshRoles(cl *app.Client) {
	roles, err := cl.Roles()
	if err != nil {
		return
	}
	doUI(func() {
		if s := c.currentShell(); s != nil {
			s.Directory.SetRoles(roles)
		}
	})
}
