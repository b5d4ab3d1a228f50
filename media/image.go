package media

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
)

// Pictures: a phone photo is decoded in memory only, turned upright by its
// EXIF orientation (exif.go), scaled, and encoded again, so what leaves the
// device carries pixels and nothing else.

const (
	// MaxImageBytes bounds the picture read into memory to decode or shrink.
	MaxImageBytes = 64 << 20
	// maxDecodePixels bounds what Decode accepts: a "photo" claiming
	// 60000×60000 pixels would otherwise ask for 14 GB.
	maxDecodePixels = 60_000_000
	// jpegQuality for re-encoded photos.
	jpegQuality = 85
)

var (
	// ErrNotImage: not a picture Decode can read (JPEG, PNG, GIF), or one
	// whose data is damaged.
	ErrNotImage = errors.New("this file is not a picture Rounds can show")
	// ErrImageTooLarge: the picture has too many pixels (or bytes) to decode
	// on this device.
	ErrImageTooLarge = errors.New("this picture is too large to shrink; send it as the original or choose a smaller one")
)

// Shrink decodes a JPEG or PNG, turns it upright (EXIF orientation), scales
// it so its longest side is at most side, and encodes it again in the same
// format (mimeType image/png stays PNG, anything else becomes JPEG): the
// result carries pixels only, no EXIF, XMP, ICC or text chunks.
func Shrink(data []byte, mimeType string, side int) ([]byte, error) {
	if len(data) > MaxImageBytes {
		return nil, ErrImageTooLarge
	}
	img, o, err := Decode(data)
	if err != nil {
		return nil, err
	}
	// Scale, then turn: the longest side does not change with a quarter
	// turn, and turning the smaller picture costs less.
	img = Upright(fit(img, side, shrinkScaler(img.Bounds(), side)), o)
	var out bytes.Buffer
	if mimeType == "image/png" {
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: jpegQuality})
	}
	if err != nil {
		return nil, fmt.Errorf("media: re-encoding picture: %w", err)
	}
	return out.Bytes(), nil
}

// shrinkScaler picks the scaler for sending: BiLinear up to a reduction of
// 2 (a 12-Mpixel phone photo is 4032 px wide: 1.97 for 2048), where it
// samples every source pixel; beyond that CatmullRom, which widens its
// kernel with the reduction so a 48-Mpixel original does not alias, at
// about four times the cost (docs/BENCHMARKS.md, ## attachments).
var shrinkScaler = func(b image.Rectangle, side int) draw.Scaler {
	if max(b.Dx(), b.Dy()) > 2*side {
		return draw.CatmullRom
	}
	return draw.BiLinear
}

// Decode decodes a JPEG, PNG or GIF within maxDecodePixels and returns it as
// stored with its EXIF orientation (1 unless a JPEG says otherwise); Upright
// turns it upright.
func Decode(data []byte) (image.Image, int, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, 1, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, 1, ErrNotImage
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxDecodePixels {
		return nil, 1, ErrImageTooLarge
	}
	var img image.Image
	switch format {
	case "jpeg":
		img, err = jpeg.Decode(bytes.NewReader(data))
	case "png":
		img, err = png.Decode(bytes.NewReader(data))
	case "gif":
		img, err = gif.Decode(bytes.NewReader(data))
	default:
		return nil, 1, ErrNotImage
	}
	if err != nil {
		return nil, 1, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	o := 1
	if format == "jpeg" {
		o = ReadExif(data).Orientation
	}
	return img, o, nil
}

// Fit scales img down so that its longest side is at most side (BiLinear:
// thumbnails and previews).
func Fit(img image.Image, side int) image.Image { return fit(img, side, draw.BiLinear) }

func fit(img image.Image, side int, scaler draw.Scaler) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	if w >= h {
		h, w = max(1, h*side/w), side
	} else {
		w, h = max(1, w*side/h), side
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	scaler.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}
