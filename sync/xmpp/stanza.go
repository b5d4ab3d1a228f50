package xmpp

import (
	"encoding/xml"
	"errors"
	"fmt"
	"unicode/utf8"
)

// NSClient is the content namespace of client stanzas. RFC 7395 §3.3.3: every
// <message/>, <presence/> and <iq/> sent over WebSocket carries it explicitly
// (Prosody answers unsupported-stanza-type otherwise).
const NSClient = "jabber:client"

const nsXML = "http://www.w3.org/XML/1998/namespace"

// Element is one XML element of a received frame or of a stanza being built.
// Names are namespace-resolved (Name.Space is the namespace URI, never a prefix),
// so lookups do not depend on how the sender chose its prefixes.
//
// Unknown extensions are kept whole: Children holds every child, and Raw holds the
// exact bytes the element had on the wire, so a higher layer can read an extension
// this package has never heard of.
type Element struct {
	Name     xml.Name
	Attrs    []xml.Attr // namespace declarations are not kept; xml:lang is {nsXML, "lang"}
	Children []*Element
	// Text is the element's own character data, concatenated (the interleaving
	// with children is kept only in Raw).
	Text string
	// Raw is the element as received (a sub-slice of its frame), nil for
	// elements built locally.
	Raw []byte
}

// NewElement starts an element; attrs are name/value pairs.
func NewElement(space, local string, attrs ...string) *Element {
	e := &Element{Name: xml.Name{Space: space, Local: local}}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.SetAttr(attrs[i], attrs[i+1])
	}
	return e
}

// Attr returns the value of an unqualified attribute, or "".
func (e *Element) Attr(local string) string {
	if e == nil {
		return ""
	}
	for _, a := range e.Attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// SetAttr sets (or with an empty value removes) an unqualified attribute.
func (e *Element) SetAttr(local, value string) *Element {
	for i, a := range e.Attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			if value == "" {
				e.Attrs = append(e.Attrs[:i], e.Attrs[i+1:]...)
			} else {
				e.Attrs[i].Value = value
			}
			return e
		}
	}
	if value != "" {
		e.Attrs = append(e.Attrs, xml.Attr{Name: xml.Name{Local: local}, Value: value})
	}
	return e
}

// SetText replaces the character data.
func (e *Element) SetText(s string) *Element { e.Text = s; return e }

// Append adds children and returns e.
func (e *Element) Append(children ...*Element) *Element {
	e.Children = append(e.Children, children...)
	return e
}

// Child returns the first child with this local name, in namespace space (any
// namespace when space is ""), or nil.
func (e *Element) Child(space, local string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name.Local == local && (space == "" || c.Name.Space == space) {
			return c
		}
	}
	return nil
}

// ChildNS returns the first child in namespace space, whatever its name.
func (e *Element) ChildNS(space string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if c.Name.Space == space {
			return c
		}
	}
	return nil
}

// ChildrenNamed returns all children with this name.
func (e *Element) ChildrenNamed(space, local string) []*Element {
	if e == nil {
		return nil
	}
	var out []*Element
	for _, c := range e.Children {
		if c.Name.Local == local && (space == "" || c.Name.Space == space) {
			out = append(out, c)
		}
	}
	return out
}

// ChildText is the text of Child(space, local), or "".
func (e *Element) ChildText(space, local string) string {
	if c := e.Child(space, local); c != nil {
		return c.Text
	}
	return ""
}

// Stanza attribute shortcuts.
func (e *Element) ID() string   { return e.Attr("id") }
func (e *Element) From() string { return e.Attr("from") }
func (e *Element) To() string   { return e.Attr("to") }
func (e *Element) Type() string { return e.Attr("type") }

// IsStanza reports whether e is a <message/>, <presence/> or <iq/> in the client
// namespace: the things XEP-0198 counts.
func (e *Element) IsStanza() bool {
	if e == nil || e.Name.Space != NSClient {
		return false
	}
	switch e.Name.Local {
	case "message", "presence", "iq":
		return true
	}
	return false
}

// Copy returns a deep copy without Raw (for replay after it was changed).
func (e *Element) Copy() *Element {
	if e == nil {
		return nil
	}
	c := &Element{Name: e.Name, Text: e.Text, Attrs: append([]xml.Attr(nil), e.Attrs...)}
	for _, ch := range e.Children {
		c.Children = append(c.Children, ch.Copy())
	}
	return c
}

// String serialises the element (for tests and debugging; never log a message
// stanza, it carries a body).
func (e *Element) String() string { return string(e.AppendXML(nil)) }

// AppendXML serialises e onto b. The root always declares its namespace; a child
// declares one only when it differs from its parent's.
func (e *Element) AppendXML(b []byte) []byte { return e.appendXML(b, "\x00") }

func (e *Element) appendXML(b []byte, parentNS string) []byte {
	b = append(b, '<')
	b = append(b, e.Name.Local...)
	if e.Name.Space != parentNS && !(e.Name.Space == "" && parentNS == "\x00") {
		b = append(b, ` xmlns="`...)
		b = appendEscaped(b, e.Name.Space, true)
		b = append(b, '"')
	}
	prefixes := 0
	for _, a := range e.Attrs {
		b = append(b, ' ')
		switch a.Name.Space {
		case "":
		case nsXML, "xml":
			b = append(b, "xml:"...)
		default:
			prefixes++
			p := fmt.Sprintf("ns%d", prefixes)
			b = append(b, "xmlns:"+p+`="`...)
			b = appendEscaped(b, a.Name.Space, true)
			b = append(b, `" `+p+":"...)
		}
		b = append(b, a.Name.Local...)
		b = append(b, `="`...)
		b = appendEscaped(b, a.Value, true)
		b = append(b, '"')
	}
	if e.Text == "" && len(e.Children) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	b = appendEscaped(b, e.Text, false)
	ns := e.Name.Space
	for _, c := range e.Children {
		b = c.appendXML(b, ns)
	}
	b = append(b, "</"...)
	b = append(b, e.Name.Local...)
	return append(b, '>')
}

// appendEscaped escapes XML special characters. Characters XML 1.0 cannot carry
// at all (most C0 controls, invalid UTF-8) become U+FFFD rather than producing a
// frame the server must reject.
func appendEscaped(b []byte, s string, attr bool) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '<':
			b = append(b, "&lt;"...)
		case r == '>':
			b = append(b, "&gt;"...)
		case r == '&':
			b = append(b, "&amp;"...)
		case r == '"' && attr:
			b = append(b, "&quot;"...)
		case r == '\'' && attr:
			b = append(b, "&apos;"...)
		case (r == '\n' || r == '\r' || r == '\t') && attr:
			b = append(b, fmt.Sprintf("&#x%X;", r)...)
		case r == '\r':
			b = append(b, "&#xD;"...)
		case r == utf8.RuneError && size == 1, !isXMLChar(r):
			b = append(b, "\uFFFD"...)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// DecodeElement parses one RFC 7395 frame: exactly one complete element. It never
// panics. Anything unacceptable yields a *StreamError (Local) whose Condition is
// the stream error to send before closing: not-well-formed for broken XML or
// UTF-8, restricted-xml for comments, processing instructions and DTDs (RFC 6120
// §11.1), bad-namespace-prefix for undeclared prefixes, policy-violation for
// input beyond lim. The parser is in decode.go.
func DecodeElement(frame []byte, lim Limits) (*Element, error) {
	return decodeElement(frame, lim, false)
}

// decodeOwnedElement is DecodeElement for a frame the caller gives up: no
// one may write to it afterwards (the read loop hands over its own copy of
// each frame). The result's strings then share the frame's bytes, which
// saves a copy of every frame received.
func decodeOwnedElement(frame []byte, lim Limits) (*Element, error) {
	return decodeElement(frame, lim, true)
}

func decodeElement(frame []byte, lim Limits, owned bool) (*Element, error) {
	lim = lim.withDefaults()
	if int64(len(frame)) > lim.MaxFrameBytes {
		return nil, &StreamError{Condition: "policy-violation", Text: "frame too large", Local: true,
			Err: fmt.Errorf("%d bytes > limit %d", len(frame), lim.MaxFrameBytes)}
	}
	if !utf8.Valid(frame) {
		return nil, &StreamError{Condition: "not-well-formed", Local: true, Err: errors.New("invalid UTF-8")}
	}
	return decodeFrame(frame, lim, owned)
}

func xmlLang(lang string) xml.Attr {
	return xml.Attr{Name: xml.Name{Space: nsXML, Local: "lang"}, Value: lang}
}
