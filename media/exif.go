package media

import (
	"encoding/binary"
	"image"
	"image/draw"
)

// Phone cameras store pixels as the sensor saw them and say in EXIF how to
// turn them upright. Re-encoding a photo drops its EXIF (that is the point:
// GPS position, device serial), so the turn must be applied to the pixels
// first, or a wound photo taken upright arrives on its side.

// Exif is what Rounds reads from a JPEG's EXIF block.
type Exif struct {
	Found       bool // an APP1 "Exif" segment with a readable TIFF header
	Orientation int  // 1..8 (1: as stored)
	GPS         bool // IFD0 points to a GPS IFD
}

// ReadExif walks a JPEG's segments up to the image data and reads IFD0 of
// the first EXIF segment. Malformed input gives the zero Exif (with
// Orientation 1), never a panic.
func ReadExif(data []byte) Exif {
	info := Exif{Orientation: 1}
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return info
	}
	p := 2
	for p+4 <= len(data) {
		if data[p] != 0xFF {
			return info
		}
		marker := data[p+1]
		if marker == 0xFF { // fill byte
			p++
			continue
		}
		if marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) {
			p += 2
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			return info
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return info
		}
		seg := data[p+4 : p+2+n]
		if marker == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return readTIFF(seg[6:])
		}
		p += 2 + n
	}
	return info
}

func readTIFF(t []byte) Exif {
	info := Exif{Orientation: 1}
	if len(t) < 8 {
		return info
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return info
	}
	if bo.Uint16(t[2:]) != 42 {
		return info
	}
	info.Found = true
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return info
	}
	count := int64(bo.Uint16(t[off:]))
	for i := int64(0); i < count; i++ {
		e := off + 2 + 12*i
		if e+12 > int64(len(t)) {
			break
		}
		tag, typ := bo.Uint16(t[e:]), bo.Uint16(t[e+2:])
		switch {
		case tag == 0x0112 && typ == 3: // Orientation, SHORT
			if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
				info.Orientation = o
			}
		case tag == 0x8825: // GPSInfo IFD pointer
			info.GPS = true
		}
	}
	return info
}

// Upright turns img upright for EXIF orientation o (2..8: mirrored and/or
// rotated by 90° steps); 1 or unknown values return img as it is.
func Upright(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			si, di := src.PixOffset(sx, sy), dst.PixOffset(x, y)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}
