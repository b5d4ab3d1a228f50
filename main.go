// Command rounds is the Rounds client: secure messaging for hospital staff.
//
// Environment (all optional; `make demo` sets them):
//
//	ROUNDS_DATA_DIR       where the encrypted store lives (default: the user's config dir)
//	ROUNDS_SERVER_URL     WebSocket URL override (otherwise discovered from the address)
//	ROUNDS_ACCOUNT        the address to prefill on the sign-in screen
//	ROUNDS_DEMO_PASSWORD  prefilled password for demo accounts
//	ROUNDS_WINDOW_SIZE    initial window size WIDTHxHEIGHT, e.g. 390x844 (default 960x680)
package main

import (
	"log/slog"
	"os"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"rounds/app"
	"rounds/assets"
	"rounds/ui"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "0.1.0-dev"

func main() {
	runCommandLine() // `rounds send|admin|audit|secret ...` runs without a window (main_cli.go)
	a := fyneapp.NewWithID("app.rounds.client")
	a.Settings().SetTheme(ui.Theme()) // WCAG AA colours in both variants (ui/theme.go)
	w := a.NewWindow("Rounds")
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	a.SetIcon(icon)

	dataDir := os.Getenv("ROUNDS_DATA_DIR")
	if dataDir == "" {
		dataDir = defaultDataDir(a) // datadir_desktop.go, datadir_mobile.go
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		slog.Error("rounds: data dir", "err", err)
		os.Exit(1)
	}
	notifier := ui.NewOSNotifier(a)
	ctl := &ui.Controller{
		App: a, Window: w, Icon: icon, Version: version,
		Config: app.Config{DataDir: dataDir, Notifier: notifier, Sound: &ui.CommandSound{}},
		Defaults: ui.SignIn{
			Address:   os.Getenv("ROUNDS_ACCOUNT"),
			Password:  os.Getenv("ROUNDS_DEMO_PASSWORD"),
			ServerURL: os.Getenv("ROUNDS_SERVER_URL"),
		},
	}
	notifier.OnOpen = ctl.OpenFromNotification // a tap on a notification (Linux with a notification daemon)
	ctl.Tray = ui.SetupTray(a, icon, func() { w.Show(); w.RequestFocus() })
	w.Resize(windowSize(os.Getenv("ROUNDS_WINDOW_SIZE"), fyne.NewSize(960, 680)))
	ctl.Start()
	w.ShowAndRun()
	ctl.Stop()
}

// windowSize parses ROUNDS_WINDOW_SIZE ("390x844"); anything else gives def.
func windowSize(v string, def fyne.Size) fyne.Size {
	w, h, ok := strings.Cut(strings.ToLower(strings.TrimSpace(v)), "x")
	if !ok {
		return def
	}
	wi, err1 := strconv.Atoi(w)
	hi, err2 := strconv.Atoi(h)
	if err1 != nil || err2 != nil || wi < 1 || hi < 1 {
		return def
	}
	return fyne.NewSize(float32(wi), float32(hi))
}
