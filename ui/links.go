package ui

import (
	"net/url"
	"regexp"
	"strings"

	"fyne.io/fyne/v2/widget"
)

// linkPattern finds candidate web links in untrusted text. Only http and https
// become links; everything else, including Markdown and HTML, stays literal text.
var linkPattern = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"'` + "`" + `]+`)

// bodySegments turns an untrusted message body into RichText segments: plain
// text segments, plus hyperlink segments for http(s) URLs. Nothing is parsed
// as markup and nothing is fetched; a link opens in the browser only when the
// user taps it.
func bodySegments(body string) []widget.RichTextSegment {
	var segs []widget.RichTextSegment
	text := func(s string) {
		if s != "" {
			segs = append(segs, &widget.TextSegment{Style: widget.RichTextStyleInline, Text: s})
		}
	}
	rest := body
	for {
		loc := linkPattern.FindStringIndex(rest)
		if loc == nil {
			break
		}
		raw := strings.TrimRight(rest[loc[0]:loc[1]], ".,;:!?)]}*")
		end := loc[0] + len(raw)
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			text(rest[:end])
		} else {
			// Fyne does not wrap a line before a hyperlink segment, so a link
			// gets a line of its own (and never overflows the bubble).
			before := rest[:loc[0]]
			if before != "" && !strings.HasSuffix(before, "\n") {
				before = strings.TrimRight(before, " \t") + "\n"
			} else if before == "" && len(segs) > 0 {
				before = "\n"
			}
			text(before)
			segs = append(segs, &widget.HyperlinkSegment{Text: linkText(raw), URL: u})
			if after := rest[end:]; after != "" && !strings.HasPrefix(after, "\n") {
				rest = "\n" + strings.TrimLeft(after, " \t")
				continue
			}
		}
		rest = rest[end:]
	}
	text(rest)
	if len(segs) == 0 {
		text(" ")
	}
	return segs
}

// maxLinkRunes is the longest link text drawn: a link is one unbreakable word,
// so a long one is shown shortened (the full address opens on tap).
const maxLinkRunes = 30

func linkText(raw string) string {
	s := raw
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	r := []rune(s)
	if len(r) > maxLinkRunes {
		return string(r[:maxLinkRunes-1]) + "…"
	}
	return s
}

// displayText is the text bodySegments draws, for measuring.
func displayText(body string) string {
	if !strings.Contains(body, "://") {
		return body
	}
	var b strings.Builder
	for _, s := range bodySegments(body) {
		switch s := s.(type) {
		case *widget.TextSegment:
			b.WriteString(s.Text)
		case *widget.HyperlinkSegment:
			b.WriteString(s.Text)
		}
	}
	return b.String()
}
