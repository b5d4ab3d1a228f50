package ui

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"rounds/app"
)

// portrait is a stand-in for a staff photo: a head and shoulders on a
// plain background, drawn so the screens can be shown with pictures.
func portrait(bg, skin, shirt color.NRGBA) image.Image {
	const n = 96
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			c := bg
			dx, dy := float64(x-n/2), float64(y-38)
			if dx*dx/(17*17)+dy*dy/(21*21) <= 1 {
				c = skin
			}
			sx, sy := float64(x-n/2), float64(y-n-4)
			if sx*sx/(40*40)+sy*sy/(36*36) <= 1 {
				c = shirt
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// fixtureFaces are the pictures some fixture staff publish; the others
// show by their initials.
var fixtureFaces = map[string]image.Image{
	"dr.patel@rounds.test": portrait(color.NRGBA{R: 0xc9, G: 0xd8, B: 0xe8, A: 0xff}, color.NRGBA{R: 0x8d, G: 0x5a, B: 0x3b, A: 0xff}, color.NRGBA{R: 0x2b, G: 0x4c, B: 0x7e, A: 0xff}),
	"dr.osei@rounds.test":  portrait(color.NRGBA{R: 0xe6, G: 0xdc, B: 0xc8, A: 0xff}, color.NRGBA{R: 0x5c, G: 0x3a, B: 0x24, A: 0xff}, color.NRGBA{R: 0x1f, G: 0x6f, B: 0x5c, A: 0xff}),
}

// fixtureAvatar is the avatar app would give: initials and colour, and the
// picture when the person publishes one.
func fixtureAvatar(name, address string) app.Avatar {
	av := app.AvatarOf(name, address)
	av.Picture = fixtureFaces[address]
	return av
}

// TestAvatarDrawsPicture: a person with a picture is drawn by it (in a
// circle), a person without by their initials on their colour, a role
// without a holder by the icon.
func TestAvatarDrawsPicture(t *testing.T) {
	test.NewTempApp(t)
	a := newAvatar(themedPerson)
	w := test.NewTempWindow(t, a)
	w.Resize(a.MinSize())
	a.set(fixtureAvatar("Dr Patel", "dr.patel@rounds.test"), themedPerson)
	if !a.picture.Visible() || a.picture.Image != fixtureFaces["dr.patel@rounds.test"] || a.text.Visible() || a.circle.Visible() || a.icon.Visible() {
		t.Fatalf("with a picture: picture %v, initials %v, circle %v, icon %v", a.picture.Visible(), a.text.Visible(), a.circle.Visible(), a.icon.Visible())
	}
	if a.picture.CornerRadius*2 != a.picture.Size().Width || a.picture.Size().Width == 0 {
		t.Errorf("picture not drawn as a circle: radius %v, size %v", a.picture.CornerRadius, a.picture.Size())
	}
	a.set(app.AvatarOf("Nurse Kim", "nurse.kim@rounds.test"), themedPerson)
	if a.picture.Visible() || !a.text.Visible() || a.text.Text != "K" || !a.circle.Visible() {
		t.Fatalf("without a picture: picture %v, initials %q %v", a.picture.Visible(), a.text.Text, a.text.Visible())
	}
	a.set(app.Avatar{}, themedPeople)
	if a.picture.Visible() || a.text.Visible() || !a.icon.Visible() {
		t.Fatal("a role without a holder does not show the icon")
	}
}

// TestPresenceRequestRow: a request shows its line, the person's face and
// Allow / Refuse, which answer for that address; with none, nothing shows.
func TestPresenceRequestRow(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeActions{}
	v := NewInboxView(inboxRows(), f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	if v.requests == nil || v.requests.Visible() {
		t.Fatal("the request bar shows with no request")
	}
	v.SetPresenceRequests(presenceRequests())
	w.Resize(fyne.NewSize(391, 844)) // lay out again, as the driver does
	w.Resize(fyne.NewSize(390, 844))
	if !v.requests.Visible() {
		t.Fatal("the request bar is hidden")
	}
	var line *widget.Label
	var allow, refuse *widget.Button
	walk(v.requests.box, func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Label:
			line = o
		case *widget.Button:
			if o.Text == "Allow" {
				allow = o
			} else if o.Text == "Refuse" {
				refuse = o
			}
		}
	})
	if line == nil || line.Text != "Dr Ama Osei (ama.osei@rounds.test) wants to see when you are available" || allow == nil || refuse == nil {
		t.Fatalf("row: line %v, allow %v, refuse %v", line, allow, refuse)
	}
	if p, s := line.Position(), line.Size(); s.Width <= 0 || p.X+s.Width > 390 {
		t.Errorf("line drawn %v wide at %v in a 390 wide screen", s.Width, p.X)
	}
	test.Tap(allow)
	test.Tap(refuse)
	if !f.has("answer ama.osei@rounds.test true") || !f.has("answer ama.osei@rounds.test false") {
		t.Errorf("answers: %v", f.calls)
	}
	v.SetPresenceRequests(nil)
	if v.requests.Visible() {
		t.Error("the request bar stays after the last answer")
	}
}

// TestPresenceRequestFloodKeepsInbox: anyone who can reach the account can
// ask to see its presence (the app keeps up to 50 requests). However many
// ask, the conversations keep most of a phone's screen: one request is
// shown at a time with a count of the others waiting, so a flood cannot
// push an urgent conversation out of sight.
func TestPresenceRequestFloodKeepsInbox(t *testing.T) {
	test.NewTempApp(t)
	f := &fakeActions{}
	v := NewInboxView(inboxRows(), f)
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(390, 844))
	var reqs []app.PresenceRequest
	for i := range 50 {
		a := fmt.Sprintf("asker%d@elsewhere.test", i)
		name := strings.Repeat("Dr Very Long Claimed Name ", 8)
		reqs = append(reqs, app.PresenceRequest{Address: a, Name: name, Avatar: app.AvatarOf(name, a),
			Text: name + " (" + a + ") wants to see when you are available"})
	}
	v.SetPresenceRequests(reqs)
	w.Resize(fyne.NewSize(391, 844)) // lay out again, as the driver does
	w.Resize(fyne.NewSize(390, 844))
	if h := v.list.Size().Height; h < 844/2 {
		t.Fatalf("50 presence requests leave the conversations %v of 844 px", h)
	}
	var more *widget.Label
	allows := 0
	walk(v.requests.box, func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Label:
			if strings.Contains(o.Text, "more") {
				more = o
			}
		case *widget.Button:
			if o.Text == "Allow" {
				allows++
			}
		}
	})
	if allows != 1 || more == nil || more.Text != "49 more people are asking" {
		t.Fatalf("%d requests shown, count line %v", allows, more)
	}
}
