// Command iconset draws the Rounds icon at every size the app stores and
// desktops ask for, into assets/icons/. Run from the repository root:
//
//	go run ./assets/iconset
//
// The icon is simple geometry (a blue rounded square, a white cross, a blue
// dot), so it is drawn from its shapes at each size instead of scaled from
// assets/icon.png: edges stay sharp at 16 px and at 1024 px, which the
// 512 px original cannot give. The shapes are measured from icon.png and a
// test checks that the 512 px drawing still matches it.
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
)

// The design, in units of a 512-unit square centred on (256, 256): measured
// from assets/icon.png.
const (
	unit        = 512.0
	plateHalf   = 240.5 // the rounded square's half side
	plateRadius = 96.0  // its corner radius
	armHalfLen  = 144.5 // each cross bar's half length
	armHalfWide = 40.5  // and half width
	dotRadius   = 20.5
)

var (
	blue  = color.NRGBA{0x0b, 0x5f, 0xa5, 0xff}
	white = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// Style says how the icon meets the edge of its square.
type Style int

const (
	// Plate: the rounded square on a transparent ground (desktops, Android
	// legacy launchers, macOS, Windows).
	Plate Style = iota
	// FullBleed: opaque blue to the edges, no alpha; the platform rounds the
	// corners itself (iOS, Google Play's store listing).
	FullBleed
	// Foreground: the cross alone on transparent, for an Android adaptive icon
	// whose background layer is the plain blue.
	Foreground
)

// Icon is one file of the set.
type Icon struct {
	Path  string // under assets/icons/
	Size  int
	Style Style
}

// Set lists every file the generator writes. Sizes follow each platform's
// published requirements (freedesktop hicolor theme, Android density buckets
// and Play listing, iOS App Store and device icons, macOS iconset, Windows).
func Set(appID string) []Icon {
	var set []Icon
	for _, s := range []int{16, 22, 24, 32, 48, 64, 128, 256, 512} {
		set = append(set, Icon{fmt.Sprintf("linux/hicolor/%dx%d/apps/%s.png", s, s, appID), s, Plate})
	}
	for _, d := range []struct {
		bucket string
		size   int
	}{{"mdpi", 48}, {"hdpi", 72}, {"xhdpi", 96}, {"xxhdpi", 144}, {"xxxhdpi", 192}} {
		set = append(set, Icon{fmt.Sprintf("android/mipmap-%s/ic_launcher.png", d.bucket), d.size, Plate})
		// Adaptive icon layers are 108 dp: 2.25 × the legacy 48 dp size.
		set = append(set, Icon{fmt.Sprintf("android/mipmap-%s/ic_launcher_foreground.png", d.bucket), d.size * 9 / 4, Foreground})
	}
	set = append(set, Icon{"android/playstore-512.png", 512, FullBleed})
	for _, s := range []int{20, 29, 40, 58, 60, 76, 80, 87, 120, 152, 167, 180, 1024} {
		set = append(set, Icon{fmt.Sprintf("ios/rounds-%d.png", s), s, FullBleed})
	}
	for _, s := range []int{16, 32, 64, 128, 256, 512, 1024} {
		set = append(set, Icon{fmt.Sprintf("macos/rounds-%d.png", s), s, Plate})
	}
	for _, s := range []int{16, 24, 32, 48, 64, 256} {
		set = append(set, Icon{fmt.Sprintf("windows/rounds-%d.png", s), s, Plate})
	}
	set = append(set, Icon{"rounds-1024.png", 1024, Plate})
	return set
}

// samples per pixel side: 8×8 gives 64 coverage levels, plenty for 8-bit output.
const samples = 8

// Draw renders the icon at size×size pixels.
func Draw(size int, style Style) *image.NRGBA { return drawShifted(size, style, 0) }

// drawShifted draws with the design moved by shift pixels right and down
// (the test needs it: icon.png sits half a pixel off-centre).
func drawShifted(size int, style Style, shift float64) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	k := unit / float64(size) // design units per pixel
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var a, r, g, b float64 // premultiplied sums
			for sy := 0; sy < samples; sy++ {
				for sx := 0; sx < samples; sx++ {
					x := (float64(px)-shift+(float64(sx)+0.5)/samples)*k - unit/2
					y := (float64(py)-shift+(float64(sy)+0.5)/samples)*k - unit/2
					c, ok := shade(x, y, style)
					if !ok {
						continue
					}
					a++
					r += float64(c.R)
					g += float64(c.G)
					b += float64(c.B)
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(r/a + 0.5), G: uint8(g/a + 0.5), B: uint8(b/a + 0.5),
				A: uint8(a*255/(samples*samples) + 0.5),
			})
		}
	}
	return img
}

// shade is the colour at design point (x, y) from the centre; ok=false is transparent.
func shade(x, y float64, style Style) (color.NRGBA, bool) {
	inCross := (abs(x) <= armHalfWide && abs(y) <= armHalfLen) || (abs(y) <= armHalfWide && abs(x) <= armHalfLen)
	inDot := x*x+y*y <= dotRadius*dotRadius
	onCross := inCross && !inDot
	switch style {
	case Foreground:
		if onCross {
			return white, true
		}
		if inDot {
			return blue, true
		}
		return color.NRGBA{}, false
	case FullBleed:
		if onCross {
			return white, true
		}
		return blue, true
	}
	if !inPlate(x, y) {
		return color.NRGBA{}, false
	}
	if onCross {
		return white, true
	}
	return blue, true
}

func inPlate(x, y float64) bool {
	ax, ay := abs(x), abs(y)
	if ax > plateHalf || ay > plateHalf {
		return false
	}
	inner := plateHalf - plateRadius
	if ax <= inner || ay <= inner {
		return true
	}
	dx, dy := ax-inner, ay-inner
	return dx*dx+dy*dy <= plateRadius*plateRadius
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// Encode returns the PNG bytes of one icon. FullBleed icons are written
// without an alpha channel: the App Store rejects a marketing icon with one.
func Encode(ic Icon) ([]byte, error) {
	img := Draw(ic.Size, ic.Style)
	var out image.Image = img
	if ic.Style == FullBleed {
		rgb := image.NewRGBA(img.Rect)
		copy(rgb.Pix, img.Pix) // opaque everywhere, so NRGBA and RGBA agree
		out = opaque{rgb}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// opaque makes png.Encode write an RGB (colour type 2) file.
type opaque struct{ *image.RGBA }

func (opaque) Opaque() bool { return true }

const appID = "app.rounds.client"

func main() {
	dir := filepath.Join("assets", "icons")
	for _, ic := range Set(appID) {
		b, err := Encode(ic)
		if err != nil {
			fmt.Fprintln(os.Stderr, "iconset:", ic.Path, err)
			os.Exit(1)
		}
		p := filepath.Join(dir, filepath.FromSlash(ic.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "iconset:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "iconset:", err)
			os.Exit(1)
		}
	}
}
