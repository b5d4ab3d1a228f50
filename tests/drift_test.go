//go:build linux

package tests

import (
	"fmt"
	"image"
	"image/draw"
	"os"
	"path/filepath"
	"sort"
	"strings"
	gosync "sync"
	"testing"
)

// The README shows pictures of the real binary (docs/screenshots/real-*.png,
// made by these tests with ROUNDS_SCREENSHOT_DIR set: `make screenshots`).
// Without ROUNDS_SCREENSHOT_DIR every kept screenshot is compared with the
// committed one instead, so a test run fails when the README's pictures are
// stale, as ui's TestScreenshots does for the software renders.
//
// The real binary under Xvfb is not drawn byte for byte the same on every
// run: the times on the messages and cards are the real clock's (the binary
// has no clock to fix, and should not have one), the sign-in screen shows
// the test server's port (a free one, picked per run) and the caret in a
// focused field blinks. The data is fixed (marker). So the comparison has
// a tolerance: a pixel differs when a channel is off by more than
// realDriftChannel, and a picture drifts when more than realDriftPixels of
// its pixels differ. Measured on this machine (docs/BUILDING.md): runs
// minutes apart differ by 0 to 290 pixels per picture (290 for three
// changed digits in the alert card's two times, 271 for the port); the
// README's main picture without its send button differs by 1,010
// (TestRealDriftCatchesAMissingButton).
const (
	realDriftChannel = 24
	realDriftPixels  = 600
)

// realDrift says how img differs from the PNG at path ("" when it does not,
// within the tolerance), with the number of differing pixels.
func realDrift(path string, img image.Image) (string, int) {
	want, err := readPNG(path)
	if err != nil {
		return "no committed screenshot (" + err.Error() + ")", -1
	}
	if want.Bounds().Size() != img.Bounds().Size() {
		return fmt.Sprintf("size %v, committed %v", img.Bounds().Size(), want.Bounds().Size()), -1
	}
	n := differingPixels(want, img, realDriftChannel)
	if n > realDriftPixels {
		return fmt.Sprintf("%d pixels differ from the committed screenshot (tolerance %d)", n, realDriftPixels), n
	}
	return "", n
}

// differingPixels counts the pixels of a and b (same size) with a channel
// off by more than tol.
func differingPixels(a, b image.Image, tol int) int {
	ab, bb := a.Bounds(), b.Bounds()
	n := 0
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			r1, g1, b1, _ := a.At(ab.Min.X+x, ab.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(bb.Min.X+x, bb.Min.Y+y).RGBA()
			for _, d := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}} {
				if diff := int(d[0]>>8) - int(d[1]>>8); diff > tol || diff < -tol {
					n++
					break
				}
			}
		}
	}
	return n
}

// compared lists the committed pictures the run compared or wrote, so a
// whole run can name the ones no test makes any more.
var compared = struct {
	gosync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

// keepReal compares (or, with ROUNDS_SCREENSHOT_DIR, writes) the docs copy
// of a real-window screenshot.
func keepReal(t *testing.T, name string, img image.Image) {
	t.Helper()
	compared.Lock()
	compared.names[name] = true
	compared.Unlock()
	if out := os.Getenv("ROUNDS_SCREENSHOT_DIR"); out != "" {
		writeShot(t, filepath.Join(out, name), img)
		return
	}
	msg, n := realDrift(filepath.Join("..", "docs", "screenshots", name), img)
	if msg != "" {
		// Kept outside the test's temp dir, to look at.
		if dir, err := os.MkdirTemp("", "rounds-drift-"); err == nil {
			writeShot(t, filepath.Join(dir, name), img)
			msg += "; this run's picture is " + filepath.Join(dir, name)
		}
		t.Errorf("%s: %s; run `make screenshots` and look at the pictures before committing them", name, msg)
		return
	}
	t.Logf("%s matches the committed picture (%d pixels differ, tolerance %d)", name, n, realDriftPixels)
}

// orphanShots lists the committed real-* pictures the run did not make;
// meaningful only after a run of every test.
func orphanShots() []string {
	files, _ := filepath.Glob(filepath.Join("..", "docs", "screenshots", "real-*.png"))
	compared.Lock()
	defer compared.Unlock()
	var out []string
	for _, f := range files {
		if !compared.names[filepath.Base(f)] {
			out = append(out, filepath.Base(f))
		}
	}
	sort.Strings(out)
	return out
}

// wholeRun reports whether the test binary runs every test (no -run or
// -skip, not -short), so that orphanShots means something.
func wholeRun() bool {
	for _, a := range os.Args[1:] {
		for _, f := range []string{"-test.run", "-test.skip", "-test.short", "-test.list", "-test.bench"} {
			if strings.HasPrefix(a, f) {
				return false
			}
		}
	}
	return true
}

// The tolerance lets the clock's times through but not a missing button:
// the README's main picture without its send button drifts.
func TestRealDriftCatchesAMissingButton(t *testing.T) {
	path := filepath.Join("..", "docs", "screenshots", "real-desktop-6-read.png")
	img, err := readPNG(path)
	if err != nil {
		t.Fatal(err)
	}
	if msg, _ := realDrift(path, img); msg != "" {
		t.Fatalf("the picture drifts from itself: %s", msg)
	}
	// Paint the send button (the primary block in the bottom right
	// corner) over with the window's background.
	b := img.Bounds()
	without := image.NewNRGBA(b)
	draw.Draw(without, b, img, b.Min, draw.Src)
	corner := image.Rect(b.Max.X-90, b.Max.Y-90, b.Max.X, b.Max.Y)
	bg := img.At(corner.Min.X, corner.Min.Y)
	erased := 0
	for y := corner.Min.Y; y < corner.Max.Y; y++ {
		for x := corner.Min.X; x < corner.Max.X; x++ {
			if isPrimary(img.At(x, y)) {
				without.Set(x, y, bg)
				erased++
			}
		}
	}
	if erased < 400 {
		t.Fatalf("no send button in the bottom right corner of %s (%d primary pixels)", path, erased)
	}
	msg, n := realDrift(path, without)
	if msg == "" {
		t.Fatalf("the picture without its send button passes (%d pixels differ, tolerance %d)", n, realDriftPixels)
	}
	t.Logf("without the send button: %s", msg)
}
