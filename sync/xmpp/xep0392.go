package xmpp

import (
	"crypto/sha1"
	"image/color"
	"math"
)

// XEP-0392 Consistent Color Generation (1.0): the same string gets the same
// colour in every client that follows it, so a person keeps one colour
// across Rounds, Conversations, Dino... Rounds colours a person by their
// bare JID (never by a display name, which the person chooses and may
// share with someone else), for the initials drawn when there is no avatar.

// ColorAngle is the string's hue angle in degrees: SHA-1 of its UTF-8
// bytes, the first two bytes read little-endian, over 65536, times 360.
func ColorAngle(s string) float64 {
	sum := sha1.Sum([]byte(s))
	return float64(uint16(sum[0])|uint16(sum[1])<<8) / 65536 * 360
}

// ConsistentColor is the string's colour: its hue angle at HSLuv
// saturation 100 and lightness 50, as the XEP specifies.
func ConsistentColor(s string) color.NRGBA {
	r, g, b := hsluvToRGB(ColorAngle(s), 100, 50)
	return color.NRGBA{R: channel(r), G: channel(g), B: channel(b), A: 0xff}
}

func channel(v float64) uint8 {
	return uint8(math.Round(math.Min(1, math.Max(0, v)) * 255))
}

// HSLuv (https://www.hsluv.org), the colour space XEP-0392 names: HSL whose
// lightness is CIELUV's, with the chroma scaled to the largest the sRGB
// gamut allows at that hue and lightness.
var hsluvM = [3][3]float64{
	{3.240969941904521, -1.537383177570093, -0.498610760293},
	{-0.96924363628087, 1.87596750150772, 0.041555057407175},
	{0.055630079696993, -0.20397695888897, 1.056971514242878},
}

const (
	hsluvRefU    = 0.19783000664283
	hsluvRefV    = 0.46831999493879
	hsluvKappa   = 903.2962962
	hsluvEpsilon = 0.0088564516
)

// maxChroma is the largest chroma inside sRGB at lightness l and hue h.
func maxChroma(l, h float64) float64 {
	hrad := h / 360 * 2 * math.Pi
	sub1 := math.Pow(l+16, 3) / 1560896
	sub2 := l / hsluvKappa
	if sub1 > hsluvEpsilon {
		sub2 = sub1
	}
	best := math.MaxFloat64
	for _, m := range hsluvM {
		for t := 0.0; t <= 1; t++ {
			top1 := (284517*m[0] - 94839*m[2]) * sub2
			top2 := (838422*m[2]+769860*m[1]+731718*m[0])*l*sub2 - 769860*t*l
			bottom := (632260*m[2]-126452*m[1])*sub2 + 126452*t
			slope, intercept := top1/bottom, top2/bottom
			if length := intercept / (math.Sin(hrad) - slope*math.Cos(hrad)); length >= 0 && length < best {
				best = length
			}
		}
	}
	return best
}

func hsluvToRGB(h, s, l float64) (r, g, b float64) {
	if l > 99.9999999 {
		return 1, 1, 1
	}
	if l < 1e-8 {
		return 0, 0, 0
	}
	c := maxChroma(l, h) / 100 * s
	hrad := h / 360 * 2 * math.Pi
	u, v := c*math.Cos(hrad), c*math.Sin(hrad)
	// LUV to XYZ.
	varU := u/(13*l) + hsluvRefU
	varV := v/(13*l) + hsluvRefV
	y := l / hsluvKappa
	if l > 8 {
		y = math.Pow((l+16)/116, 3)
	}
	x := -(9 * y * varU) / ((varU-4)*varV - varU*varV)
	z := (9*y - 15*varV*y - varV*x) / (3 * varV)
	// XYZ to sRGB.
	lin := func(m [3]float64) float64 {
		c := m[0]*x + m[1]*y + m[2]*z
		if c <= 0.0031308 {
			return 12.92 * c
		}
		return 1.055*math.Pow(c, 1/2.4) - 0.055
	}
	return lin(hsluvM[0]), lin(hsluvM[1]), lin(hsluvM[2])
}
