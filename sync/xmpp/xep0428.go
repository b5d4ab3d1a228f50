package xmpp

import (
	"strconv"
	"unicode/utf8"
)

// XEP-0428 Fallback Indication. Every Rounds extension travels with a body
// that other clients can show ("[URGENT] ...", "✓ Acknowledged"); the
// <fallback/> element tells a client that understands the extension which part
// of the body is only there for the others, so it can strip it.
const NSFallback = "urn:xmpp:fallback:0"

// Fallback says that (part of) the body is a fallback for the extension For.
type Fallback struct {
	For    string
	Ranges []FallbackRange // empty: the whole body
}

// FallbackRange is a range of the body in Unicode code points, [Start, End).
type FallbackRange struct{ Start, End int }

// NewFallback marks code points [start, end) of the body as the fallback for
// namespace forNS; start == end == 0 marks the whole body.
func NewFallback(forNS string, start, end int) *Element {
	f := NewElement(NSFallback, "fallback", "for", forNS)
	if start == 0 && end == 0 {
		return f.Append(NewElement(NSFallback, "body"))
	}
	return f.Append(NewElement(NSFallback, "body", "start", strconv.Itoa(start), "end", strconv.Itoa(end)))
}

// ShiftFallbacks moves the ranges of every <fallback/> already in el by n
// code points: text was put before the body (a reply's quote).
func ShiftFallbacks(el *Element, n int) {
	for _, f := range el.ChildrenNamed(NSFallback, "fallback") {
		for _, b := range f.ChildrenNamed(NSFallback, "body") {
			s, e := b.Attr("start"), b.Attr("end")
			start, err1 := strconv.Atoi(s)
			end, err2 := strconv.Atoi(e)
			if s == "" && e == "" || err1 != nil || err2 != nil {
				continue
			}
			b.SetAttr("start", strconv.Itoa(start+n))
			b.SetAttr("end", strconv.Itoa(end+n))
		}
	}
}

// InsertFallback puts text into el's body at code point at, moves the
// ranges of the fallbacks already in el that start at or after at by its
// length, and marks it as the fallback for forNS. Without a body it does
// nothing.
func InsertFallback(el *Element, at int, text, forNS string) {
	b := el.Child(NSClient, "body")
	if b == nil || text == "" {
		return
	}
	rs := []rune(b.Text)
	at = max(0, min(at, len(rs)))
	n := utf8.RuneCountInString(text)
	for _, f := range el.ChildrenNamed(NSFallback, "fallback") {
		for _, r := range f.ChildrenNamed(NSFallback, "body") {
			start, err1 := strconv.Atoi(r.Attr("start"))
			end, err2 := strconv.Atoi(r.Attr("end"))
			if err1 != nil || err2 != nil || start < at {
				continue
			}
			r.SetAttr("start", strconv.Itoa(start+n))
			r.SetAttr("end", strconv.Itoa(end+n))
		}
	}
	b.SetText(string(rs[:at]) + text + string(rs[at:]))
	el.Append(NewFallback(forNS, at, at+n))
}

// ParseFallbacks reads the <fallback/> elements of a stanza. Ranges that are
// not numbers, negative or reversed are dropped (the text then stays: showing
// a fallback is better than losing words).
func ParseFallbacks(st *Element) []Fallback {
	var out []Fallback
	for _, f := range st.ChildrenNamed(NSFallback, "fallback") {
		fb := Fallback{For: f.Attr("for")}
		whole := false
		bodies := f.ChildrenNamed(NSFallback, "body")
		if len(bodies) == 0 {
			whole = true
		}
		for _, b := range bodies {
			s, e := b.Attr("start"), b.Attr("end")
			if s == "" && e == "" {
				whole = true
				continue
			}
			start, err1 := strconv.Atoi(s)
			end, err2 := strconv.Atoi(e)
			if err1 != nil || err2 != nil || start < 0 || end < start {
				continue
			}
			fb.Ranges = append(fb.Ranges, FallbackRange{start, end})
		}
		if whole {
			fb.Ranges = nil
		} else if len(fb.Ranges) == 0 {
			continue
		}
		out = append(out, fb)
	}
	return out
}

// StripFallback removes from body the ranges of the fallbacks whose For
// satisfies strip. Whole-body fallbacks are not removed (a whole-body
// fallback is the human text of a structured payload; callers decide).
// Ranges beyond the body are clipped.
func StripFallback(body string, fbs []Fallback, strip func(forNS string) bool) string {
	var cut []FallbackRange
	for _, f := range fbs {
		if strip(f.For) {
			cut = append(cut, f.Ranges...)
		}
	}
	if len(cut) == 0 {
		return body
	}
	n := utf8.RuneCountInString(body)
	drop := make([]bool, n)
	for _, r := range cut {
		for i := r.Start; i < r.End && i < n; i++ {
			drop[i] = true
		}
	}
	out := make([]byte, 0, len(body))
	i := 0
	for _, r := range body {
		if !drop[i] {
			out = utf8.AppendRune(out, r)
		}
		i++
	}
	return string(out)
}
