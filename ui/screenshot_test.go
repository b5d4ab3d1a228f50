package ui

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"rounds/app"
	"rounds/assets"
)

// screenSizes are the sizes every screen is looked at: a front-desk window and a
// phone held upright.
var screenSizes = map[string]fyne.Size{
	"desktop": fyne.NewSize(900, 640),
	"phone":   fyne.NewSize(390, 844),
}

// TestScreenshots renders each screen with Fyne's software painter at desktop and
// phone sizes. It checks the render is not blank and matches the one committed
// in docs/screenshots (keepScreen); with ROUNDS_SCREENSHOT_DIR set it writes the
// PNGs instead (`make screenshots`), so a person can look at them (the Linux
// mobile simulator draws black under Xvfb, so this is how phone sizes get
// looked at here).
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("ROUNDS_SCREENSHOT_DIR")
	only := os.Getenv("ROUNDS_SCREENSHOT_ONLY") // a name prefix, to look at a few screens
	for _, sc := range append(append(append(append(append(append(append(append(append(append(screenshotScreens(), clinicalScreens()...), sharedDeviceScreens()...), dndScreens()...), searchScreens()...), lockedScreens()...), forwardScreens()...), repliesScreens()...), broadcastScreens()...), careTeamScreens()...), patientScreens()...) {
		if only != "" && !strings.HasPrefix(sc.name, only) {
			continue
		}
		for sizeName, size := range screenSizes {
			for _, variant := range []string{"dark", "light"} {
				a := test.NewTempApp(t)
				if variant == "dark" {
					a.Settings().SetTheme(themeVariant(theme.VariantDark))
				} else {
					a.Settings().SetTheme(themeVariant(theme.VariantLight))
				}
				if sc.theme != nil {
					a.Settings().SetTheme(sc.theme(a.Settings().Theme()))
				}
				restore := isMobile
				isMobile = func() bool { return sizeName == "phone" }
				w := test.NewTempWindow(t, sc.build())
				if sc.desktop != (fyne.Size{}) && sizeName == "desktop" {
					size = sc.desktop
				}
				w.Resize(size)
				if sc.after != nil {
					sc.after(t, w)
				}
				img := w.Canvas().Capture()
				isMobile = restore
				keepScreen(t, dir, sc.name, sizeName, variant, img)
			}
		}
	}
}

// keepScreen fails a capture that renders blank (fewer than three colours).
// With dir set it writes it as NAME-SIZE[-light].png (`make screenshots`
// writes docs/screenshots this way); without, it compares it with the one
// committed in docs/screenshots and fails on drift, so the pictures in the
// docs are the screens the code draws.
func keepScreen(t *testing.T, dir, name, sizeName, variant string, img image.Image) {
	t.Helper()
	if distinctColours(img) < 3 {
		t.Errorf("%s at %s renders blank", name, sizeName)
	}
	name += "-" + sizeName
	if variant == "light" {
		name += "-light"
	}
	if dir == "" {
		if msg := screenDrift(filepath.Join("..", "docs", "screenshots", name+".png"), img); msg != "" {
			t.Errorf("%s: %s; run `make screenshots` and look at the pictures before committing them", name, msg)
		}
		return
	}
	writePNG(t, filepath.Join(dir, name+".png"), img)
}

// Drift tolerance: a pixel differs when a channel is off by more than
// driftChannel (anti-aliasing noise stays under it); a screen drifts when
// more than driftShare of its pixels differ. A moved label or a new button
// is far over it.
const (
	driftChannel = 24
	driftShare   = 0.0005
)

// screenDrift says how img differs from the PNG at path ("" when it does
// not, within the tolerance).
func screenDrift(path string, img image.Image) string {
	f, err := os.Open(path)
	if err != nil {
		return "no committed screenshot (" + err.Error() + ")"
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		return "committed screenshot unreadable: " + err.Error()
	}
	if want.Bounds().Size() != img.Bounds().Size() {
		return fmt.Sprintf("size %v, committed %v", img.Bounds().Size(), want.Bounds().Size())
	}
	differ := 0
	wb, gb := want.Bounds(), img.Bounds()
	for y := 0; y < wb.Dy(); y++ {
		for x := 0; x < wb.Dx(); x++ {
			r1, g1, b1, a1 := want.At(wb.Min.X+x, wb.Min.Y+y).RGBA()
			r2, g2, b2, a2 := img.At(gb.Min.X+x, gb.Min.Y+y).RGBA()
			for _, d := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}, {a1, a2}} {
				if diff := int(d[0]>>8) - int(d[1]>>8); diff > driftChannel || diff < -driftChannel {
					differ++
					break
				}
			}
		}
	}
	if total := wb.Dx() * wb.Dy(); float64(differ) > driftShare*float64(total) {
		return fmt.Sprintf("%d of %d pixels differ from the committed screenshot", differ, total)
	}
	return ""
}

type screenshot struct {
	name  string
	build func() fyne.CanvasObject
	after func(*testing.T, fyne.Window)
	theme func(fyne.Theme) fyne.Theme
	// desktop overrides the desktop size (the shared-device screens are
	// looked at in the 960x680 window main opens).
	desktop fyne.Size
}

func screenshotScreens() []screenshot {
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	return []screenshot{
		{name: "signin", build: func() fyne.CanvasObject {
			return SignInScreen(icon, SignIn{Address: "nurse.kim@rounds.test"}, func(SignIn) error { return nil })
		}},
		{name: "choosepin", build: func() fyne.CanvasObject {
			return ChoosePINScreen(app.MinPINLength, func(string) error { return nil })
		}},
		{name: "inbox", build: func() fyne.CanvasObject {
			v := NewInboxView(inboxRows(), &fakeActions{})
			v.SetConnection(app.Connection{Connectivity: app.Offline, Reason: errors.New("connection reset by peer"), RetryAt: fixedNow.Add(20 * time.Second)})
			return v
		}},
		{name: "inbox-request", build: func() fyne.CanvasObject {
			v := NewInboxView(inboxRows(), &fakeActions{})
			v.SetConnection(app.Connection{Connectivity: app.Online})
			v.SetPresenceRequests(presenceRequests())
			return v
		}},
		{name: "unlock", build: func() fyne.CanvasObject {
			return UnlockScreen(icon, "nurse.kim@rounds.test", func(string) error { return wrongPIN(3) })
		}},
		{name: "directory", build: func() fyne.CanvasObject {
			return NewDirectoryView(contacts(), &fakeActions{})
		}},
		{name: "settings", build: func() fyne.CanvasObject {
			return SettingsScreen(settingsState(), &fakeActions{})
		}},
		{name: "shell", build: func() fyne.CanvasObject {
			s := NewShell(&fakeActions{}, settingsState())
			s.Inbox.SetRows(inboxRows())
			s.Inbox.SetConnection(app.Connection{Connectivity: app.Online})
			s.Directory.SetContacts(contacts())
			s.ShowConversation(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, roomMessages(), true)
			return s.Content()
		}},
		{name: "shell-largetext", theme: func(t fyne.Theme) fyne.Theme { return &scaledTheme{Theme: t, scale: 1.5} }, build: func() fyne.CanvasObject {
			s := NewShell(&fakeActions{}, settingsState())
			s.Inbox.SetRows(inboxRows())
			s.Inbox.SetConnection(app.Connection{Connectivity: app.Online})
			s.ShowConversation(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, roomMessages(), false)
			return s.Content()
		}},
		{name: "room-unavailable", build: func() fyne.CanvasObject {
			s := NewShell(&fakeActions{}, settingsState())
			s.Inbox.SetRows(unavailableRooms())
			s.Inbox.SetConnection(app.Connection{Connectivity: app.Online})
			s.ShowConversation(ConversationInfo{ID: "ward7@rooms.rounds.test", Title: "Ward 7 handover", IsRoom: true, Unavailable: "This room no longer exists."}, roomMessages(), false)
			return s.Content()
		}},
		{name: "receipt-detail", build: func() fyne.CanvasObject {
			return NewConversationView(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true}, roomMessages(), &fakeActions{})
		}, after: func(t *testing.T, w fyne.Window) {
			v := w.Content().(*ConversationView)
			v.showReceipt(v.rows[4])
		}},
		{name: "conversation-room", build: func() fyne.CanvasObject {
			return NewConversationView(ConversationInfo{ID: "icu@rooms.rounds.test", Title: "ICU team", IsRoom: true, HasOlder: true}, roomMessages(), &fakeActions{})
		}},
		{name: "conversation-chat", build: func() fyne.CanvasObject {
			v := NewConversationView(oseiInfo(ConversationInfo{Presence: "dnd", Unread: 2}), chatMessages(), &fakeActions{})
			v.OnBack = func() {}
			return v
		}},
	}
}

func distinctColours(img image.Image) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// scaledTheme is the system theme with every size scaled, as a user with
// large text set would see it.
type scaledTheme struct {
	fyne.Theme
	scale float32
}

func (s *scaledTheme) Size(n fyne.ThemeSizeName) float32 { return s.Theme.Size(n) * s.scale }
