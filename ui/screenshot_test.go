package ui

import (
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

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
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	screens := map[string]func() fyne.CanvasObject{
		"signin": func() fyne.CanvasObject {
			return SignInScreen(icon, SignIn{Address: "nurse.kim@rounds.test"}, func(SignIn) error { return nil })
		},
	}
	dir := os.Getenv("ROUNDS_SCREENSHOT_DIR")
	for name, build := range screens {
		for sizeName, size := range screenSizes {
			a := test.NewTempApp(t)
			a.Settings().SetTheme(theme.DarkTheme())
			w := test.NewTempWindow(t, build())
			w.Resize(size)
			img := w.Canvas().Capture()
			if distinctColours(img) < 3 {
				t.Errorf("%s at %s renders blank", name, sizeName)
			}
			if dir != "" {
				writePNG(t, filepath.Join(dir, name+"-"+sizeName+".png"), img)
			}
		}
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
