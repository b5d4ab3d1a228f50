package main

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestDrawingMatchesIconPNG: the shapes drawn at 512 px are the icon the app
// embeds (assets/icon.png), not a look-alike. The original's shapes are
// centred on pixel 256's centre, half a pixel off the canvas centre, so the
// comparison drawing is shifted to match; anti-aliased edges may still
// differ a little, so the test bounds the mean difference and the share of
// pixels that differ visibly.
func TestDrawingMatchesIconPNG(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "icon.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	orig, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if orig.Bounds() != image.Rect(0, 0, 512, 512) {
		t.Fatalf("icon.png is %v, the measurements assume 512×512", orig.Bounds())
	}
	drawn := drawShifted(512, Plate, 0.5)
	var sum float64
	visible := 0
	for y := 0; y < 512; y++ {
		for x := 0; x < 512; x++ {
			r1, g1, b1, a1 := orig.At(x, y).RGBA()
			r2, g2, b2, a2 := drawn.At(x, y).RGBA()
			d := (diff(r1, r2) + diff(g1, g2) + diff(b1, b2) + diff(a1, a2)) / 4 / 0xffff
			sum += d
			if d > 0.25 {
				visible++
			}
		}
	}
	mean := sum / (512 * 512)
	if mean > 0.001 || visible > 200 {
		t.Errorf("drawing differs from icon.png: mean %.4f, %d pixels differ by more than 25%%", mean, visible)
	}
	t.Logf("mean difference %.5f, %d pixels > 25%%", mean, visible)
}

func diff(a, b uint32) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}

// TestCommittedIconsAreCurrent: every file under assets/icons is what the
// generator draws now (run `go run ./assets/iconset` after changing it), at
// its stated size, and full-bleed icons have no alpha channel.
func TestCommittedIconsAreCurrent(t *testing.T) {
	for _, ic := range Set(appID) {
		want, err := Encode(ic)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "icons", filepath.FromSlash(ic.Path)))
		if err != nil {
			t.Errorf("%s: %v (run go run ./assets/iconset)", ic.Path, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go run ./assets/iconset", ic.Path)
		}
		img, err := png.Decode(bytes.NewReader(got))
		if err != nil {
			t.Errorf("%s: %v", ic.Path, err)
			continue
		}
		if img.Bounds().Dx() != ic.Size || img.Bounds().Dy() != ic.Size {
			t.Errorf("%s is %v, want %d×%d", ic.Path, img.Bounds(), ic.Size, ic.Size)
		}
		if ic.Style == FullBleed {
			if _, ok := img.(*image.RGBA); !ok || got[25] != 2 { // IHDR colour type 2: RGB
				t.Errorf("%s has an alpha channel; the App Store rejects it", ic.Path)
			}
		}
	}
}

// TestIconsAreSquareAndCentred: the design is symmetric, so any drawing is
// its own mirror image — a cheap guard against an off-by-one in the sampler.
func TestIconsAreSquareAndCentred(t *testing.T) {
	for _, size := range []int{16, 48, 87} {
		img := Draw(size, Plate)
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				if img.NRGBAAt(x, y) != img.NRGBAAt(size-1-x, y) || img.NRGBAAt(x, y) != img.NRGBAAt(y, x) {
					t.Fatalf("size %d: not symmetric at (%d,%d)", size, x, y)
				}
			}
		}
	}
}
