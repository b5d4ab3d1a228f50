// Command rounds is the Rounds client: secure messaging for hospital staff.
//
// Environment (all optional; `make demo` sets them):
//
//	ROUNDS_SERVER_URL     WebSocket URL override (otherwise discovered from the address)
//	ROUNDS_DEMO_ACCOUNTS  comma-separated demo addresses; the first is prefilled
//	ROUNDS_DEMO_PASSWORD  prefilled password for demo accounts
package main

import (
	"errors"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"rounds/assets"
	"rounds/ui"
)

// errNoSyncYet is shown on sign-in until the sync engine lands: the screen is real,
// the connection behind it is not built yet, and the user is told so plainly.
var errNoSyncYet = errors.New("Signing in is not available in this build yet: the connection to the hospital's server is still being built.")

func main() {
	a := fyneapp.New()
	w := a.NewWindow("Rounds")
	defaults := ui.SignIn{ServerURL: os.Getenv("ROUNDS_SERVER_URL"), Password: os.Getenv("ROUNDS_DEMO_PASSWORD")}
	if accounts := os.Getenv("ROUNDS_DEMO_ACCOUNTS"); accounts != "" {
		defaults.Address, _, _ = strings.Cut(accounts, ",")
	}
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	a.SetIcon(icon)
	w.SetContent(ui.SignInScreen(icon, defaults, func(ui.SignIn) error { return errNoSyncYet }))
	w.Resize(fyne.NewSize(900, 640))
	w.ShowAndRun()
}
