package ui

import (
	"errors"
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
// phone sizes. It checks the render is not blank, and with ROUNDS_SCREENSHOT_DIR
// set it writes the PNGs so a person can look at them (the Linux mobile simulator
// draws black under Xvfb, so this is how phone sizes get looked at here).
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("ROUNDS_SCREENSHOT_DIR")
	only := os.Getenv("ROUNDS_SCREENSHOT_ONLY") // a name prefix, to look at a few screens
	for _, sc := range append(append(append(append(append(screenshotScreens(), clinicalScreens()...), sharedDeviceScreens()...), dndScreens()...), searchScreens()...), lockedScreens()...) {
		if only != "" && !strings.HasPrefix(sc.name, only) {
			continue
		}
		for sizeName, size := range screenSizes {
			for _, variant := range []string{"dark", "light"} {
				a := test.NewTempApp(t)
				if variant == "dark" {
					a.Settings().SetTheme(theme.DarkTheme())
				} else {
					a.Settings().SetTheme(theme.LightTheme())
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

// keepScreen fails a capture that renders blank (fewer than three colours)
// and, when dir is set, writes it as NAME-SIZE[-light].png.
func keepScreen(t *testing.T, dir, name, sizeName, variant string, img image.Image) {
	t.Helper()
	if distinctColours(img) < 3 {
		t.Errorf("%s at %s renders blank", name, sizeName)
	}
	if dir == "" {
		return
	}
	name += "-" + sizeName
	if variant == "light" {
		name += "-light"
	}
	writePNG(t, filepath.Join(dir, name+".png"), img)
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
			v := NewConversationView(ConversationInfo{ID: "dr.osei@rounds.test", Title: "Dr Osei", Presence: "dnd", Unread: 2}, chatMessages(), &fakeActions{})
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
