package media

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"
)

// The photo fixture is the app's (3000×2000, EXIF orientation 6 and a GPS
// block): the app sends it in its tests, this package reads it.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "app", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestContradicts: a type with a signature must look like it, text must not
// be binary, other types are not judged; declared types are read loosely
// (case, parameters, image/jpg).
func TestContradicts(t *testing.T) {
	jpg := fixture(t, "good_exif_gps.jpg")[:512]
	html := []byte("<!DOCTYPE html><html><body>hi</body></html>")
	for _, c := range []struct {
		declared string
		head     []byte
		bad      bool
	}{
		{"image/jpeg", jpg, false},
		{"Image/JPG; q=1", jpg, false},
		{"image/jpeg", html, true},
		{"application/pdf", jpg, true},
		{"text/plain", []byte("K+ 6.1"), false},
		{"text/plain", []byte{0, 1, 2, 0xff}, true},
		{"application/octet-stream", html, false},
		{"", jpg, false},
	} {
		if _, bad := Contradicts(c.declared, c.head); bad != c.bad {
			t.Errorf("%q with %.8q: contradicts %v, want %v", c.declared, c.head, bad, c.bad)
		}
	}
	if TypeByName("Scan.PDF") != "application/pdf" || TypeByName("notes") != "" || Extension("image/jpeg") != ".jpg" {
		t.Errorf("TypeByName %q %q, Extension %q", TypeByName("Scan.PDF"), TypeByName("notes"), Extension("image/jpeg"))
	}
}

// TestShrink: a camera photo comes back upright, within the side, as a JPEG
// without EXIF; what is not a picture, or is too large, is refused.
func TestShrink(t *testing.T) {
	photo := fixture(t, "good_exif_gps.jpg")
	out, err := Shrink(photo, "image/jpeg", 1000)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
	// 3000×2000 stored, orientation 6: upright it is 2000 wide, 3000 high.
	if err != nil || cfg.Width != 666 || cfg.Height != 1000 {
		t.Fatalf("shrunk: %+v, %v", cfg, err)
	}
	if ReadExif(out).Found || bytes.Contains(out, []byte("Exif\x00\x00")) {
		t.Fatal("EXIF survived re-encoding")
	}
	if _, err := Shrink([]byte("not a picture"), "image/jpeg", 1000); !errors.Is(err, ErrNotImage) {
		t.Fatalf("not a picture: %v", err)
	}
}

// TestRenderPDFPage: page 1 of a PDF comes back fitting the box; without a
// renderer, or from a document the renderer cannot read, ErrNoPDFPreview.
func TestRenderPDFPage(t *testing.T) {
	ctx := context.Background()
	if _, err := RenderPDFPage(ctx, "", bytes.NewReader(nil), 100); !errors.Is(err, ErrNoPDFPreview) {
		t.Fatalf("without a renderer: %v", err)
	}
	tool := PDFRenderer()
	if tool == "" {
		// make test installs poppler-utils (scripts/install-deps.sh): in CI
		// a missing renderer is a failure, not a skipped check.
		if os.Getenv("CI") != "" {
			t.Fatal("pdftoppm not installed: scripts/install-deps.sh test installs poppler-utils")
		}
		t.Skip("pdftoppm not installed")
	}
	pdf, err := os.ReadFile(filepath.Join("..", "sync", "testdata", "good_report.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := RenderPDFPage(ctx, tool, bytes.NewReader(pdf), 200)
	if err != nil || max(img.Bounds().Dx(), img.Bounds().Dy()) != 200 {
		t.Fatalf("page 1: %v", err)
	}
	if _, err := RenderPDFPage(ctx, tool, bytes.NewReader([]byte("not a PDF")), 200); !errors.Is(err, ErrNoPDFPreview) {
		t.Fatalf("not a PDF: %v", err)
	}
}

func TestOrient(t *testing.T) {
	// 3×2 image: the red pixel at (0,0) must end where each orientation
	// puts the stored top-left corner.
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	src.Pix[0], src.Pix[3] = 255, 255
	want := map[int]image.Point{1: {0, 0}, 2: {2, 0}, 3: {2, 1}, 4: {0, 1}, 5: {0, 0}, 6: {1, 0}, 7: {1, 2}, 8: {0, 2}}
	for o, p := range want {
		img := Upright(src, o)
		if r, _, _, _ := img.At(p.X, p.Y).RGBA(); r>>8 != 255 {
			t.Errorf("orientation %d: red not at %v", o, p)
		}
		if o >= 5 && img.Bounds().Dx() != 2 {
			t.Errorf("orientation %d not turned: %v", o, img.Bounds())
		}
	}
}

func TestReadExif(t *testing.T) {
	info := ReadExif(fixture(t, "good_exif_gps.jpg"))
	if !info.Found || !info.GPS || info.Orientation != 6 {
		t.Fatalf("%+v", info)
	}
	for _, bad := range [][]byte{nil, {0xff}, {0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff}, []byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff")} {
		if got := ReadExif(bad); got.Found && got.GPS || got.Orientation != 1 {
			t.Errorf("%x: %+v", bad, got)
		}
	}
}

func FuzzReadExif(f *testing.F) {
	f.Add(fixture(f, "good_exif_gps.jpg")[:512])
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II\x2a\x00\x08\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info := ReadExif(b)
		if info.Orientation < 1 || info.Orientation > 8 {
			t.Fatalf("orientation %d", info.Orientation)
		}
	})
}

// Picture processing cost (docs/BENCHMARKS.md, ## attachments): shrinking
// a 3000×2000 camera photo for sending (to the app's 2048 px), and making a
// thumbnail, each against decoding the same JPEG alone in the same run.
const benchSide = 2048

func BenchmarkPhotoDecodeBaseline(b *testing.B) {
	photo := fixture(b, "good_exif_gps.jpg")
	b.SetBytes(int64(len(photo)))
	for b.Loop() {
		if _, err := jpeg.Decode(bytes.NewReader(photo)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPhotoShrinkForSending(b *testing.B) {
	photo := fixture(b, "good_exif_gps.jpg")
	b.SetBytes(int64(len(photo)))
	for b.Loop() {
		if _, err := Shrink(photo, "image/jpeg", benchSide); err != nil {
			b.Fatal(err)
		}
	}
}

// The same with CatmullRom, the scaler used only beyond a 2× reduction.
func BenchmarkPhotoShrinkCatmullRom(b *testing.B) {
	photo := fixture(b, "good_exif_gps.jpg")
	restore := shrinkScaler
	shrinkScaler = func(image.Rectangle, int) draw.Scaler { return draw.CatmullRom }
	defer func() { shrinkScaler = restore }()
	b.SetBytes(int64(len(photo)))
	for b.Loop() {
		if _, err := Shrink(photo, "image/jpeg", benchSide); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPhotoThumbnail(b *testing.B) {
	photo := fixture(b, "good_exif_gps.jpg")
	b.SetBytes(int64(len(photo)))
	for b.Loop() {
		img, o, err := Decode(photo)
		if err != nil {
			b.Fatal(err)
		}
		Upright(Fit(img, 400), o)
	}
}
