package xmpp

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// A hand-written decoder for one RFC 7395 frame: one element in the restricted
// XML of RFC 6120 §11.1. It replaces encoding/xml, whose per-byte reader, token
// copies and maps cost most of the client's CPU per message during MAM catch-up.
//
// What it accepts is, element for element, what encoding/xml in Strict mode
// accepted through the previous DecodeElement (kept as the reference in
// decode_test.go), with the same *Element out and the same stream-error
// condition for what it rejects, except that it is stricter where encoding/xml
// is laxer than XML 1.0 + Namespaces 1.0; each such rule has a decodeRule
// constant below, and FuzzDecodeMatchesReference checks every divergence
// against an independent oracle.
//
// Accepted: elements, attributes quoted with ' or ", character data, the five
// predefined entities and numeric character references, CDATA sections inside
// the element (RFC 6120 §11.1 does not restrict them), xmlns and xmlns:prefix
// declarations with scoping, whitespace around the element, and an XML
// declaration at byte 0 (version 1.0, encoding UTF-8 if any). Rejected:
// comments, processing instructions, DTDs and other <! directives
// (restricted-xml), invalid UTF-8 or XML characters and any other malformed
// XML (not-well-formed), undeclared prefixes and element namespaces that are not
// URIs (bad-namespace-prefix), and input beyond Limits (policy-violation).
//
// Attribute values get end-of-line handling but, as with encoding/xml, not the
// whitespace normalisation of XML 1.0 §3.3.3.
//
// Names and values in the result are substrings of one copy of the frame
// (string(frame); the frame itself when the read loop hands over its own
// copy), so a string kept from a frame keeps that copy alive, as Raw keeps
// the frame; namespaces this package knows are its constants instead.
// Only text and values with references or CRs are built separately. The
// elements, attributes and child lists of a frame each come from one
// allocation; their slices are capped, so appending to one never overwrites
// another.

// decodeRule names an XML 1.0 / Namespaces 1.0 rule that the new decoder
// enforces and encoding/xml does not.
type decodeRule string

const (
	ruleQName      decodeRule = "qname"       // "a:" or ":a" names; an element named xmlns
	ruleAttrSpace  decodeRule = "attr-space"  // no whitespace between two attributes
	ruleNSDecl     decodeRule = "ns-decl"     // xmlns:p="", reserved prefixes or namespace names misused
	ruleAttrPrefix decodeRule = "attr-prefix" // attribute prefix not declared
	ruleDupAttr    decodeRule = "dup-attr"    // the same attribute (after namespace expansion) twice
	ruleTopLevel   decodeRule = "top-level"   // anything but literal whitespace outside the element
	ruleCharRef    decodeRule = "char-ref"    // a character reference to a surrogate
	ruleXMLDecl    decodeRule = "xml-decl"    // an XML declaration not following XML 1.0 §2.8
)

// decodeError is the Err of the StreamError DecodeElement returns.
type decodeError struct {
	Offset int
	Msg    string
	Rule   decodeRule // set when encoding/xml would not have rejected this
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("xml: %s at byte %d", e.Msg, e.Offset)
}

const nsXMLNS = "http://www.w3.org/2000/xmlns/"

// Byte classes.
const (
	cName      = 1 << iota // may continue a name (all bytes >= 0x80 too: checked as runes)
	cNameStart             // may start a name (ASCII only; >= 0x80 checked as runes)
	cSpace                 // XML S
	cTextStop              // stops a run of plain character data
	cAttrStop              // stops a run of plain attribute value
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= 0x80:
			t[c] |= cName | cNameStart
		case c >= '0' && c <= '9', c == '-', c == '.':
			t[c] |= cName
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			t[c] |= cSpace
		}
		if c < 0x20 && c != '\t' && c != '\n' || c == '\r' || c == '&' || c == '<' || c == 0xEF {
			t[c] |= cTextStop | cAttrStop
		}
		if c == ']' {
			t[c] |= cTextStop
		}
		if c == '"' || c == '\'' {
			t[c] |= cAttrStop
		}
	}
	return
}()

type openElem struct {
	el      *Element
	qname   string // as written, to match the end tag
	start   int    // offset of its '<'
	nsTop   int    // len(ns) before its declarations
	kidBase int    // len(kids) when it started
	tState  uint8  // 0 no text, 1 text is s[tA:tB], 2 text is in bufs[depth]
	tA, tB  int
}

type nsBinding struct{ prefix, uri string }

// decodeScratch is the per-call working memory, pooled: nothing in it survives
// into the result.
type decodeScratch struct {
	stack []openElem
	kids  []*Element
	ns    []nsBinding
	bufs  [][]byte // text being assembled, per depth
	tmp   []byte
}

var scratchPool = sync.Pool{New: func() any { return new(decodeScratch) }}

// release returns sc to the pool without references into the result: the
// open-element stack and child lists are cleared as elements end (and here
// after an error), the namespace stack up to nsHigh.
func (sc *decodeScratch) release(nsHigh int) {
	clear(sc.stack)
	clear(sc.kids)
	clear(sc.ns[:nsHigh])
	sc.stack, sc.kids, sc.ns = sc.stack[:0], sc.kids[:0], sc.ns[:0]
	if cap(sc.tmp) > 64<<10 {
		sc.tmp = nil
	}
	for i := range sc.bufs {
		if cap(sc.bufs[i]) > 64<<10 {
			sc.bufs[i] = nil
		}
	}
	scratchPool.Put(sc)
}

type decoder struct {
	b   []byte
	s   string // string(b): names and plain values are substrings of it
	pos int
	lim Limits
	sc  *decodeScratch

	els      []Element // arenas for the result
	attrOut  []xml.Attr
	kidOut   []*Element
	root     *Element
	elements int
	nsHigh   int // most namespace bindings held at once
}

// decodeFrame parses a frame already checked for size and UTF-8. An owned
// frame is one nobody writes to again (the read loop's own copy): its names
// and values are then substrings of the frame itself, not of a second copy.
func decodeFrame(frame []byte, lim Limits, owned bool) (*Element, error) {
	nEl, nAttr := arenaSizes(frame)
	nEl = max(1, min(nEl, lim.MaxElements+1))
	nAttr = min(nAttr, lim.MaxElements*lim.MaxAttrs)
	text := unsafe.String(unsafe.SliceData(frame), len(frame))
	if !owned {
		text = string(frame)
	}
	d := decoder{
		b:      frame,
		s:      text,
		lim:    lim,
		sc:     scratchPool.Get().(*decodeScratch),
		els:    make([]Element, 0, nEl),
		kidOut: make([]*Element, 0, nEl-1),
	}
	if nAttr > 0 {
		d.attrOut = make([]xml.Attr, 0, nAttr)
	}
	el, err := d.run()
	d.sc.release(d.nsHigh)
	d.sc = nil
	if err != nil {
		return nil, err
	}
	return el, nil
}

// arenaSizes bounds the elements and attributes of a frame for the arenas:
// every element starts with a '<' followed by a name, every attribute has an
// '=' and most declarations read xmlns=. An overestimate costs memory, an
// underestimate one more allocation.
func arenaSizes(b []byte) (elements, attrs int) {
	for i := 0; ; {
		k := bytes.IndexByte(b[i:], '<')
		if k < 0 {
			break
		}
		i += k + 1
		if i < len(b) && b[i] != '/' && b[i] != '!' && b[i] != '?' {
			elements++
		}
	}
	for i := 0; ; {
		k := bytes.IndexByte(b[i:], '=')
		if k < 0 {
			break
		}
		i += k + 1
		if i < 6 || string(b[i-6:i-1]) != "xmlns" {
			attrs++
		}
	}
	return
}

func (d *decoder) fail(cond string, off int, rule decodeRule, msg string) error {
	return &StreamError{Condition: cond, Local: true, Err: &decodeError{Offset: off, Msg: msg, Rule: rule}}
}

func (d *decoder) malformed(off int, msg string) error {
	return d.fail("not-well-formed", off, "", msg)
}

func (d *decoder) run() (*Element, error) {
	b := d.b
	for d.pos < len(b) {
		var err error
		if b[d.pos] != '<' {
			err = d.text()
		} else if d.pos+1 >= len(b) {
			err = d.malformed(d.pos, "unexpected EOF")
		} else {
			switch b[d.pos+1] {
			case '/':
				err = d.endTag()
			case '?':
				err = d.procInst()
			case '!':
				err = d.bang()
			default:
				err = d.startTag()
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if d.root == nil || len(d.sc.stack) > 0 {
		return nil, d.malformed(len(b), "incomplete element")
	}
	return d.root, nil
}

// scanName returns the end of the name starting at i, and whether it is a
// valid XML name (encoding/xml's rules: XML 1.0 4th edition, Appendix B).
func (d *decoder) scanName(i int) (int, bool) {
	b := d.b
	j := i
	var hi byte
	for j < len(b) && byteClass[b[j]]&cName != 0 {
		hi |= b[j]
		j++
	}
	if j == i {
		return j, false
	}
	if hi < utf8.RuneSelf {
		return j, byteClass[b[i]]&cNameStart != 0
	}
	return j, isNonASCIIName(d.s[i:j])
}

func isNonASCIIName(s string) bool {
	for k, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if byteClass[r]&cName == 0 || k == 0 && byteClass[r]&cNameStart == 0 {
				return false
			}
		case k == 0:
			if !unicode.Is(nameStartNonASCII, r) {
				return false
			}
		default:
			if !unicode.Is(nameCharNonASCII, r) {
				return false
			}
		}
	}
	return true
}

// splitQName splits a name per Namespaces 1.0: at most one colon, not at
// either end.
func (d *decoder) splitQName(q string, off int) (prefix, local string, err error) {
	c := strings.IndexByte(q, ':')
	if c < 0 {
		return "", q, nil
	}
	if strings.IndexByte(q[c+1:], ':') >= 0 {
		return "", "", d.malformed(off, "more than one colon in a name")
	}
	if c == 0 || c == len(q)-1 {
		return "", "", d.fail("not-well-formed", off, ruleQName, "colon at the edge of a name")
	}
	return q[:c], q[c+1:], nil
}

func (d *decoder) skipSpace(i int) int {
	for i < len(d.b) && byteClass[d.b[i]]&cSpace != 0 {
		i++
	}
	return i
}

// charRef decodes the reference at b[i] == '&'; it returns the character and
// the offset after the ';'.
func (d *decoder) charRef(i int) (rune, int, error) {
	b := d.b
	j := i + 1
	if j < len(b) && b[j] == '#' {
		j++
		base := rune(10)
		if j < len(b) && b[j] == 'x' {
			base = 16
			j++
		}
		var v rune
		digits := 0
		for ; j < len(b); j++ {
			c := b[j]
			var dv rune
			switch {
			case c >= '0' && c <= '9':
				dv = rune(c - '0')
			case base == 16 && c >= 'a' && c <= 'f':
				dv = rune(c-'a') + 10
			case base == 16 && c >= 'A' && c <= 'F':
				dv = rune(c-'A') + 10
			default:
				goto end
			}
			digits++
			if v <= unicode.MaxRune {
				v = v*base + dv
			}
		}
	end:
		if digits == 0 || j >= len(b) || b[j] != ';' || v > unicode.MaxRune {
			return 0, 0, d.malformed(i, "invalid character reference")
		}
		if v >= 0xD800 && v <= 0xDFFF {
			return 0, 0, d.fail("not-well-formed", i, ruleCharRef, "character reference to a surrogate")
		}
		if !isXMLChar(v) {
			return 0, 0, d.malformed(i, "character reference to a character XML forbids")
		}
		return v, j + 1, nil
	}
	k := j
	for k < len(b) && byteClass[b[k]]&cName != 0 {
		k++
	}
	if k >= len(b) || b[k] != ';' {
		return 0, 0, d.malformed(i, "invalid entity reference")
	}
	var r rune
	switch d.s[j:k] {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "apos":
		r = '\''
	case "quot":
		r = '"'
	default:
		return 0, 0, d.malformed(i, "undefined entity")
	}
	return r, k + 1, nil
}

// checkEF rejects U+FFFE and U+FFFF at b[i] == 0xEF (the frame is valid UTF-8,
// so surrogates and values above U+10FFFF cannot occur).
func (d *decoder) checkEF(i int) error {
	if i+2 < len(d.b) && d.b[i+1] == 0xBF && (d.b[i+2] == 0xBE || d.b[i+2] == 0xBF) {
		return d.malformed(i, "character XML forbids")
	}
	return nil
}

// text reads character data up to the next '<' (or the end).
func (d *decoder) text() error {
	b := d.b
	depth := len(d.sc.stack)
	if depth == 0 {
		for i := d.pos; i < len(b) && b[i] != '<'; i++ {
			if byteClass[b[i]]&cSpace == 0 {
				return d.fail("not-well-formed", i, ruleTopLevel, "text outside the element")
			}
			d.pos = i + 1
		}
		return nil
	}
	start := d.pos
	i, seg := start, start
	dirty := false
	tmp := d.sc.tmp[:0]
loop:
	for {
		for i < len(b) && byteClass[b[i]]&cTextStop == 0 {
			i++
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; c {
		case '<':
			break loop
		case '&':
			tmp = append(tmp, b[seg:i]...)
			r, next, err := d.charRef(i)
			if err != nil {
				return err
			}
			tmp = utf8.AppendRune(tmp, r)
			i, seg, dirty = next, next, true
		case '\r':
			tmp = append(tmp, b[seg:i]...)
			tmp = append(tmp, '\n')
			i++
			if i < len(b) && b[i] == '\n' {
				i++
			}
			seg, dirty = i, true
		case ']':
			if i+2 < len(b) && b[i+1] == ']' && b[i+2] == '>' {
				return d.malformed(i, "]]> outside a CDATA section")
			}
			i++
		case 0xEF:
			if err := d.checkEF(i); err != nil {
				return err
			}
			i++
		default:
			return d.malformed(i, "control character")
		}
	}
	d.pos = i
	if dirty {
		tmp = append(tmp, b[seg:i]...)
		d.addText(depth, 0, 0, tmp)
	} else if i > start {
		d.addText(depth, start, i, nil)
	}
	d.sc.tmp = tmp
	return nil
}

// addText appends s[a:b] (decoded == nil) or decoded to the text of the
// innermost open element.
func (d *decoder) addText(depth, a, b int, decoded []byte) {
	top := &d.sc.stack[depth-1]
	for len(d.sc.bufs) < depth {
		d.sc.bufs = append(d.sc.bufs, nil)
	}
	buf := &d.sc.bufs[depth-1]
	switch top.tState {
	case 0:
		if decoded == nil {
			top.tState, top.tA, top.tB = 1, a, b
			return
		}
		*buf = append((*buf)[:0], decoded...)
		top.tState = 2
		return
	case 1:
		*buf = append((*buf)[:0], d.b[top.tA:top.tB]...)
		top.tState = 2
	}
	if decoded == nil {
		*buf = append(*buf, d.b[a:b]...)
	} else {
		*buf = append(*buf, decoded...)
	}
}

// attrValue reads a quoted value whose opening quote is at b[i-1].
func (d *decoder) attrValue(i int, quote byte) (string, int, error) {
	b := d.b
	start, seg := i, i
	dirty := false
	tmp := d.sc.tmp[:0]
	for {
		for i < len(b) && byteClass[b[i]]&cAttrStop == 0 {
			i++
		}
		if i >= len(b) {
			return "", 0, d.malformed(i, "unexpected EOF in attribute value")
		}
		switch c := b[i]; c {
		case quote:
			var v string
			if dirty {
				tmp = append(tmp, b[seg:i]...)
				v = string(tmp)
			} else {
				v = d.s[start:i]
			}
			d.sc.tmp = tmp
			return v, i + 1, nil
		case '"', '\'':
			i++
		case '<':
			return "", 0, d.malformed(i, "< in attribute value")
		case '&':
			tmp = append(tmp, b[seg:i]...)
			r, next, err := d.charRef(i)
			if err != nil {
				return "", 0, err
			}
			tmp = utf8.AppendRune(tmp, r)
			i, seg, dirty = next, next, true
		case '\r':
			// End-of-line handling only, no §3.3.3 normalisation (see above):
			// Prosody forwards a newline it received as &#xA; literally.
			tmp = append(tmp, b[seg:i]...)
			tmp = append(tmp, '\n')
			i++
			if i < len(b) && b[i] == '\n' {
				i++
			}
			seg, dirty = i, true
		case 0xEF:
			if err := d.checkEF(i); err != nil {
				return "", 0, err
			}
			i++
		default:
			return "", 0, d.malformed(i, "control character")
		}
	}
}

func (d *decoder) lookupNS(prefix string) (string, bool) {
	ns := d.sc.ns
	for k := len(ns) - 1; k >= 0; k-- {
		if ns[k].prefix == prefix {
			return ns[k].uri, true
		}
	}
	return "", false
}

func (d *decoder) startTag() error {
	b := d.b
	start := d.pos
	i := start + 1
	end, ok := d.scanName(i)
	if !ok {
		if end >= len(b) {
			return d.malformed(end, "unexpected EOF")
		}
		return d.malformed(i, "invalid element name")
	}
	qname := d.s[i:end]
	prefix, local, err := d.splitQName(qname, i)
	if err != nil {
		return err
	}
	i = end
	// Attributes go straight into the frame's arena (Name.Space holding the
	// prefix until the declarations are known), declarations onto the
	// namespace stack.
	a0 := len(d.attrOut)
	nsTop := len(d.sc.ns)
	nattrs := 0
	selfClose := false
	for {
		sp := i
		i = d.skipSpace(i)
		if i >= len(b) {
			return d.malformed(i, "unexpected EOF in start tag")
		}
		if b[i] == '/' {
			if i+1 >= len(b) || b[i+1] != '>' {
				return d.malformed(i, "expected />")
			}
			i += 2
			selfClose = true
			break
		}
		if b[i] == '>' {
			i++
			break
		}
		if nattrs > 0 && sp == i {
			return d.fail("not-well-formed", i, ruleAttrSpace, "no whitespace between attributes")
		}
		aend, ok := d.scanName(i)
		if !ok {
			return d.malformed(i, "invalid attribute name")
		}
		ap, al, err := d.splitQName(d.s[i:aend], i)
		if err != nil {
			return err
		}
		i = d.skipSpace(aend)
		if i >= len(b) || b[i] != '=' {
			return d.malformed(i, "attribute without =")
		}
		i = d.skipSpace(i + 1)
		if i >= len(b) || b[i] != '"' && b[i] != '\'' {
			return d.malformed(i, "unquoted attribute value")
		}
		v, next, err := d.attrValue(i+1, b[i])
		if err != nil {
			return err
		}
		i = next
		nattrs++
		switch {
		case nattrs > d.lim.MaxAttrs:
			// refused below; parse on for syntax errors, which come first
		case ap == "xmlns":
			d.sc.ns = append(d.sc.ns, nsBinding{al, internNS(v)})
		case ap == "" && al == "xmlns":
			d.sc.ns = append(d.sc.ns, nsBinding{"", internNS(v)})
		default:
			d.attrOut = append(d.attrOut, xml.Attr{Name: xml.Name{Space: ap, Local: al}, Value: v})
		}
	}
	d.nsHigh = max(d.nsHigh, len(d.sc.ns))

	// The checks of the encoding/xml version, in its order.
	depth := len(d.sc.stack)
	if d.root != nil && depth == 0 {
		return d.malformed(start, "more than one element in a frame")
	}
	if depth >= d.lim.MaxDepth {
		return d.fail("policy-violation", start, "", fmt.Sprintf("nesting deeper than %d", d.lim.MaxDepth))
	}
	if nattrs > d.lim.MaxAttrs {
		return d.fail("policy-violation", start, "", fmt.Sprintf("more than %d attributes", d.lim.MaxAttrs))
	}
	d.elements++
	if d.elements > d.lim.MaxElements {
		return d.fail("policy-violation", start, "", fmt.Sprintf("more than %d elements", d.lim.MaxElements))
	}

	// Namespace declarations (Namespaces in XML 1.0 §3).
	decls := d.sc.ns[nsTop:]
	for k, n := range decls {
		switch {
		case n.prefix == "":
			if n.uri == nsXML || n.uri == nsXMLNS {
				return d.fail("bad-namespace-prefix", start, ruleNSDecl, "reserved namespace as default")
			}
		case n.uri == "":
			return d.fail("bad-namespace-prefix", start, ruleNSDecl, "prefix bound to the empty namespace")
		case n.prefix == "xmlns", n.uri == nsXMLNS, (n.prefix == "xml") != (n.uri == nsXML):
			return d.fail("bad-namespace-prefix", start, ruleNSDecl, "reserved prefix or namespace misused")
		}
		for _, m := range decls[:k] {
			if m.prefix == n.prefix {
				return d.fail("not-well-formed", start, ruleDupAttr, "duplicate namespace declaration")
			}
		}
	}

	var space string
	switch prefix {
	case "":
		if local == "xmlns" {
			return d.fail("not-well-formed", start+1, ruleQName, "element named xmlns")
		}
		space, _ = d.lookupNS("")
	case "xml":
		space = nsXML
	default:
		u, ok := d.lookupNS(prefix)
		if !ok || prefix == "xmlns" {
			return d.fail("bad-namespace-prefix", start+1, "", fmt.Sprintf("undeclared prefix %q", prefix))
		}
		space = u
	}
	if space != "" && strings.IndexByte(space, ':') < 0 {
		return d.fail("bad-namespace-prefix", start+1, "", fmt.Sprintf("namespace %q is not a URI", space))
	}

	out := d.attrOut[a0:len(d.attrOut):len(d.attrOut)]
	for k := range out {
		a := &out[k].Name
		switch a.Space {
		case "":
		case "xml":
			a.Space = nsXML
		default:
			u, ok := d.lookupNS(a.Space)
			if !ok {
				return d.fail("bad-namespace-prefix", start, ruleAttrPrefix, fmt.Sprintf("undeclared prefix %q", a.Space))
			}
			a.Space = u
		}
		for _, o := range out[:k] {
			if o.Name == *a {
				return d.fail("not-well-formed", start, ruleDupAttr, "duplicate attribute")
			}
		}
	}

	var el *Element
	if len(d.els) < cap(d.els) {
		d.els = d.els[:len(d.els)+1]
		el = &d.els[len(d.els)-1]
	} else {
		el = new(Element)
	}
	el.Name = xml.Name{Space: space, Local: local}
	if len(out) > 0 {
		el.Attrs = out
	}
	if depth > 0 {
		d.sc.kids = append(d.sc.kids, el)
	} else {
		d.root = el
	}
	if selfClose {
		el.Raw = b[start:i:i]
		d.sc.ns = d.sc.ns[:nsTop]
	} else {
		d.sc.stack = append(d.sc.stack, openElem{el: el, qname: qname, start: start, nsTop: nsTop, kidBase: len(d.sc.kids)})
	}
	d.pos = i
	return nil
}

func (d *decoder) endTag() error {
	b := d.b
	i := d.pos + 2
	end := i
	for end < len(b) && byteClass[b[end]]&cName != 0 {
		end++
	}
	name := d.s[i:end]
	j := d.skipSpace(end)
	if j >= len(b) || b[j] != '>' || end == i {
		return d.malformed(i, "malformed end tag")
	}
	n := len(d.sc.stack)
	if n == 0 {
		return d.malformed(d.pos, "end tag without start tag")
	}
	top := &d.sc.stack[n-1]
	if name != top.qname {
		return d.malformed(d.pos, "end tag does not match")
	}
	j++
	el := top.el
	el.Raw = b[top.start:j:j]
	switch top.tState {
	case 1:
		el.Text = d.s[top.tA:top.tB]
	case 2:
		el.Text = string(d.sc.bufs[n-1])
	}
	if kids := d.sc.kids[top.kidBase:]; len(kids) > 0 {
		k0 := len(d.kidOut)
		d.kidOut = append(d.kidOut, kids...)
		el.Children = d.kidOut[k0:len(d.kidOut):len(d.kidOut)]
		clear(kids)
		d.sc.kids = d.sc.kids[:top.kidBase]
	}
	d.sc.ns = d.sc.ns[:top.nsTop]
	*top = openElem{}
	d.sc.stack = d.sc.stack[:n-1]
	d.pos = j
	return nil
}

// procInst handles "<?". encoding/xml scanned the whole instruction (and
// checked an xml target's version and encoding) before the old DecodeElement
// refused it; the same order keeps the same stream-error condition.
func (d *decoder) procInst() error {
	b := d.b
	start := d.pos
	i := start + 2
	end, ok := d.scanName(i)
	if !ok {
		return d.malformed(i, "invalid processing instruction target")
	}
	target := d.s[i:end]
	i = d.skipSpace(end)
	k := bytes.Index(b[i:], []byte("?>"))
	if k < 0 {
		return d.malformed(i, "unterminated processing instruction")
	}
	data := d.s[i : i+k]
	after := i + k + 2
	if target == "xml" {
		if v := procInstParam("version", data); v != "" && v != "1.0" {
			return d.malformed(start, "unsupported XML version")
		}
		if e := procInstParam("encoding", data); e != "" && !strings.EqualFold(e, "utf-8") {
			return d.malformed(start, "encoding other than UTF-8")
		}
		if start == 0 {
			if !isXMLDecl(d.s[:after]) {
				return d.fail("not-well-formed", 0, ruleXMLDecl, "malformed XML declaration")
			}
			d.pos = after
			return nil
		}
	}
	return d.fail("restricted-xml", start, "", "processing instruction")
}

// procInstParam finds param="value" or param='value' in a processing
// instruction the way encoding/xml does (it is lax: "xversion=" matches too),
// so that the same declarations fail the version and encoding checks.
func procInstParam(param, s string) string {
	param += "="
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || len(param)+k >= len(sub) {
			return ""
		}
		i += len(param) + k + 1
		if c := sub[len(param)+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// isXMLDecl: XML 1.0 §2.8 XMLDecl, with version 1.0 and UTF-8 only.
func isXMLDecl(s string) bool {
	p := strings.TrimPrefix(s, "<?xml")
	if len(p) == len(s) {
		return false
	}
	param := func(name string, ok func(string) bool) bool {
		t := strings.TrimLeft(p, " \t\r\n")
		if len(t) == len(p) || !strings.HasPrefix(t, name) {
			return false
		}
		t = strings.TrimLeft(t[len(name):], " \t\r\n")
		if !strings.HasPrefix(t, "=") {
			return false
		}
		t = strings.TrimLeft(t[1:], " \t\r\n")
		if t == "" || t[0] != '"' && t[0] != '\'' {
			return false
		}
		e := strings.IndexByte(t[1:], t[0])
		if e < 0 || !ok(t[1:1+e]) {
			return false
		}
		p = t[e+2:]
		return true
	}
	if !param("version", func(v string) bool { return v == "1.0" }) {
		return false
	}
	param("encoding", func(v string) bool { return strings.EqualFold(v, "utf-8") })
	param("standalone", func(v string) bool { return v == "yes" || v == "no" })
	return strings.TrimLeft(p, " \t\r\n") == "?>"
}

// bang handles "<!": a comment, a CDATA section or a directive (DOCTYPE,
// ENTITY...). Comments and directives are scanned to their end the way
// encoding/xml does before they are refused, so that truncated ones stay
// not-well-formed and complete ones restricted-xml.
func (d *decoder) bang() error {
	b := d.b
	start := d.pos
	i := start + 2
	if i >= len(b) {
		return d.malformed(i, "unexpected EOF")
	}
	switch b[i] {
	case '-':
		if i+1 >= len(b) || b[i+1] != '-' {
			return d.malformed(i, "<!- not part of <!--")
		}
		i += 2
		var b0, b1 byte
		for {
			if i >= len(b) {
				return d.malformed(i, "unterminated comment")
			}
			c := b[i]
			i++
			if b0 == '-' && b1 == '-' {
				if c != '>' {
					return d.malformed(i-1, "-- in a comment")
				}
				break
			}
			b0, b1 = b1, c
		}
		return d.fail("restricted-xml", start, "", "comment")
	case '[':
		if !bytes.HasPrefix(b[i+1:], []byte("CDATA[")) {
			return d.malformed(i, "invalid <![ sequence")
		}
		return d.cdata(i + 7)
	}
	i++ // the directive's first byte is taken as is
	var inquote byte
	depth := 0
	for {
		if i >= len(b) {
			return d.malformed(i, "unterminated directive")
		}
		c := b[i]
		i++
		if inquote == 0 && c == '>' && depth == 0 {
			break
		}
	handle:
		switch {
		case c == inquote:
			inquote = 0
		case inquote != 0:
		case c == '\'' || c == '"':
			inquote = c
		case c == '>':
			depth--
		case c == '<':
			for _, want := range []byte("!--") {
				if i >= len(b) {
					return d.malformed(i, "unterminated directive")
				}
				c = b[i]
				i++
				if c != want {
					depth++
					goto handle
				}
			}
			var b0, b1 byte
			for {
				if i >= len(b) {
					return d.malformed(i, "unterminated comment")
				}
				c = b[i]
				i++
				if b0 == '-' && b1 == '-' && c == '>' {
					break
				}
				b0, b1 = b1, c
			}
		}
	}
	return d.fail("restricted-xml", start, "", "DTD or directive")
}

// cdata reads a CDATA section whose content starts at i.
func (d *decoder) cdata(i int) error {
	b := d.b
	k := bytes.Index(b[i:], []byte("]]>"))
	if k < 0 {
		return d.malformed(i, "unterminated CDATA section")
	}
	end := i + k
	cr := false
	for j := i; j < end; j++ {
		c := b[j]
		if byteClass[c]&cTextStop == 0 {
			continue
		}
		switch {
		case c == '\r':
			cr = true
		case c == 0xEF:
			if err := d.checkEF(j); err != nil {
				return err
			}
		case c < 0x20:
			return d.malformed(j, "control character")
		}
	}
	depth := len(d.sc.stack)
	if depth == 0 {
		return d.fail("not-well-formed", d.pos, ruleTopLevel, "CDATA section outside the element")
	}
	if !cr {
		if end > i {
			d.addText(depth, i, end, nil)
		}
	} else {
		tmp := d.sc.tmp[:0]
		for j := i; j < end; j++ {
			switch {
			case b[j] != '\r':
				tmp = append(tmp, b[j])
			case j+1 < end && b[j+1] == '\n':
			default:
				tmp = append(tmp, '\n')
			}
		}
		d.addText(depth, 0, 0, tmp)
		d.sc.tmp = tmp
	}
	d.pos = end + 3
	return nil
}

// internNS returns the package's constant for a namespace it knows, so that
// the common ones are shared rather than cut out of each frame.
func internNS(s string) string {
	switch s {
	case NSClient:
		return NSClient
	case NSMAM:
		return NSMAM
	case NSForward:
		return NSForward
	case NSDelay:
		return NSDelay
	case NSReceipts:
		return NSReceipts
	case NSMarkers:
		return NSMarkers
	case NSSID:
		return NSSID
	case NSCarbons:
		return NSCarbons
	case NSRSM:
		return NSRSM
	case nsSM:
		return nsSM
	case nsHints:
		return nsHints
	case NSCaps:
		return NSCaps
	case NSMUCUser:
		return NSMUCUser
	case NSPubSubEvent:
		return NSPubSubEvent
	case NSDataForm:
		return NSDataForm
	case nsStanzas:
		return nsStanzas
	case nsStream:
		return nsStream
	case NSFraming:
		return NSFraming
	}
	return s
}

// Non-ASCII name characters as encoding/xml has them (XML 1.0 4th edition,
// Appendix B), generated by probing encoding/xml; TestNameTablesMatchReference
// checks every rune.
var nameStartNonASCII = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x00C0, 0x00D6, 1}, {0x00D8, 0x00F6, 1}, {0x00F8, 0x0131, 1}, {0x0134, 0x013E, 1},
		{0x0141, 0x0148, 1}, {0x014A, 0x017E, 1}, {0x0180, 0x01C3, 1}, {0x01CD, 0x01F0, 1},
		{0x01F4, 0x01F5, 1}, {0x01FA, 0x0217, 1}, {0x0250, 0x02A8, 1}, {0x02BB, 0x02C1, 1},
		{0x0386, 0x0386, 1}, {0x0388, 0x038A, 1}, {0x038C, 0x038C, 1}, {0x038E, 0x03A1, 1},
		{0x03A3, 0x03CE, 1}, {0x03D0, 0x03D6, 1}, {0x03DA, 0x03DA, 1}, {0x03DC, 0x03DC, 1},
		{0x03DE, 0x03DE, 1}, {0x03E0, 0x03E0, 1}, {0x03E2, 0x03F3, 1}, {0x0401, 0x040C, 1},
		{0x040E, 0x044F, 1}, {0x0451, 0x045C, 1}, {0x045E, 0x0481, 1}, {0x0490, 0x04C4, 1},
		{0x04C7, 0x04C8, 1}, {0x04CB, 0x04CC, 1}, {0x04D0, 0x04EB, 1}, {0x04EE, 0x04F5, 1},
		{0x04F8, 0x04F9, 1}, {0x0531, 0x0556, 1}, {0x0559, 0x0559, 1}, {0x0561, 0x0586, 1},
		{0x05D0, 0x05EA, 1}, {0x05F0, 0x05F2, 1}, {0x0621, 0x063A, 1}, {0x0641, 0x064A, 1},
		{0x0671, 0x06B7, 1}, {0x06BA, 0x06BE, 1}, {0x06C0, 0x06CE, 1}, {0x06D0, 0x06D3, 1},
		{0x06D5, 0x06D5, 1}, {0x06E5, 0x06E6, 1}, {0x0905, 0x0939, 1}, {0x093D, 0x093D, 1},
		{0x0958, 0x0961, 1}, {0x0985, 0x098C, 1}, {0x098F, 0x0990, 1}, {0x0993, 0x09A8, 1},
		{0x09AA, 0x09B0, 1}, {0x09B2, 0x09B2, 1}, {0x09B6, 0x09B9, 1}, {0x09DC, 0x09DD, 1},
		{0x09DF, 0x09E1, 1}, {0x09F0, 0x09F1, 1}, {0x0A05, 0x0A0A, 1}, {0x0A0F, 0x0A10, 1},
		{0x0A13, 0x0A28, 1}, {0x0A2A, 0x0A30, 1}, {0x0A32, 0x0A33, 1}, {0x0A35, 0x0A36, 1},
		{0x0A38, 0x0A39, 1}, {0x0A59, 0x0A5C, 1}, {0x0A5E, 0x0A5E, 1}, {0x0A72, 0x0A74, 1},
		{0x0A85, 0x0A8B, 1}, {0x0A8D, 0x0A8D, 1}, {0x0A8F, 0x0A91, 1}, {0x0A93, 0x0AA8, 1},
		{0x0AAA, 0x0AB0, 1}, {0x0AB2, 0x0AB3, 1}, {0x0AB5, 0x0AB9, 1}, {0x0ABD, 0x0ABD, 1},
		{0x0AE0, 0x0AE0, 1}, {0x0B05, 0x0B0C, 1}, {0x0B0F, 0x0B10, 1}, {0x0B13, 0x0B28, 1},
		{0x0B2A, 0x0B30, 1}, {0x0B32, 0x0B33, 1}, {0x0B36, 0x0B39, 1}, {0x0B3D, 0x0B3D, 1},
		{0x0B5C, 0x0B5D, 1}, {0x0B5F, 0x0B61, 1}, {0x0B85, 0x0B8A, 1}, {0x0B8E, 0x0B90, 1},
		{0x0B92, 0x0B95, 1}, {0x0B99, 0x0B9A, 1}, {0x0B9C, 0x0B9C, 1}, {0x0B9E, 0x0B9F, 1},
		{0x0BA3, 0x0BA4, 1}, {0x0BA8, 0x0BAA, 1}, {0x0BAE, 0x0BB5, 1}, {0x0BB7, 0x0BB9, 1},
		{0x0C05, 0x0C0C, 1}, {0x0C0E, 0x0C10, 1}, {0x0C12, 0x0C28, 1}, {0x0C2A, 0x0C33, 1},
		{0x0C35, 0x0C39, 1}, {0x0C60, 0x0C61, 1}, {0x0C85, 0x0C8C, 1}, {0x0C8E, 0x0C90, 1},
		{0x0C92, 0x0CA8, 1}, {0x0CAA, 0x0CB3, 1}, {0x0CB5, 0x0CB9, 1}, {0x0CDE, 0x0CDE, 1},
		{0x0CE0, 0x0CE1, 1}, {0x0D05, 0x0D0C, 1}, {0x0D0E, 0x0D10, 1}, {0x0D12, 0x0D28, 1},
		{0x0D2A, 0x0D39, 1}, {0x0D60, 0x0D61, 1}, {0x0E01, 0x0E2E, 1}, {0x0E30, 0x0E30, 1},
		{0x0E32, 0x0E33, 1}, {0x0E40, 0x0E45, 1}, {0x0E81, 0x0E82, 1}, {0x0E84, 0x0E84, 1},
		{0x0E87, 0x0E88, 1}, {0x0E8A, 0x0E8A, 1}, {0x0E8D, 0x0E8D, 1}, {0x0E94, 0x0E97, 1},
		{0x0E99, 0x0E9F, 1}, {0x0EA1, 0x0EA3, 1}, {0x0EA5, 0x0EA5, 1}, {0x0EA7, 0x0EA7, 1},
		{0x0EAA, 0x0EAB, 1}, {0x0EAD, 0x0EAE, 1}, {0x0EB0, 0x0EB0, 1}, {0x0EB2, 0x0EB3, 1},
		{0x0EBD, 0x0EBD, 1}, {0x0EC0, 0x0EC4, 1}, {0x0F40, 0x0F47, 1}, {0x0F49, 0x0F69, 1},
		{0x10A0, 0x10C5, 1}, {0x10D0, 0x10F6, 1}, {0x1100, 0x1100, 1}, {0x1102, 0x1103, 1},
		{0x1105, 0x1107, 1}, {0x1109, 0x1109, 1}, {0x110B, 0x110C, 1}, {0x110E, 0x1112, 1},
		{0x113C, 0x113C, 1}, {0x113E, 0x113E, 1}, {0x1140, 0x1140, 1}, {0x114C, 0x114C, 1},
		{0x114E, 0x114E, 1}, {0x1150, 0x1150, 1}, {0x1154, 0x1155, 1}, {0x1159, 0x1159, 1},
		{0x115F, 0x1161, 1}, {0x1163, 0x1163, 1}, {0x1165, 0x1165, 1}, {0x1167, 0x1167, 1},
		{0x1169, 0x1169, 1}, {0x116D, 0x116E, 1}, {0x1172, 0x1173, 1}, {0x1175, 0x1175, 1},
		{0x119E, 0x119E, 1}, {0x11A8, 0x11A8, 1}, {0x11AB, 0x11AB, 1}, {0x11AE, 0x11AF, 1},
		{0x11B7, 0x11B8, 1}, {0x11BA, 0x11BA, 1}, {0x11BC, 0x11C2, 1}, {0x11EB, 0x11EB, 1},
		{0x11F0, 0x11F0, 1}, {0x11F9, 0x11F9, 1}, {0x1E00, 0x1E9B, 1}, {0x1EA0, 0x1EF9, 1},
		{0x1F00, 0x1F15, 1}, {0x1F18, 0x1F1D, 1}, {0x1F20, 0x1F45, 1}, {0x1F48, 0x1F4D, 1},
		{0x1F50, 0x1F57, 1}, {0x1F59, 0x1F59, 1}, {0x1F5B, 0x1F5B, 1}, {0x1F5D, 0x1F5D, 1},
		{0x1F5F, 0x1F7D, 1}, {0x1F80, 0x1FB4, 1}, {0x1FB6, 0x1FBC, 1}, {0x1FBE, 0x1FBE, 1},
		{0x1FC2, 0x1FC4, 1}, {0x1FC6, 0x1FCC, 1}, {0x1FD0, 0x1FD3, 1}, {0x1FD6, 0x1FDB, 1},
		{0x1FE0, 0x1FEC, 1}, {0x1FF2, 0x1FF4, 1}, {0x1FF6, 0x1FFC, 1}, {0x2126, 0x2126, 1},
		{0x212A, 0x212B, 1}, {0x212E, 0x212E, 1}, {0x2180, 0x2182, 1}, {0x3007, 0x3007, 1},
		{0x3021, 0x3029, 1}, {0x3041, 0x3094, 1}, {0x30A1, 0x30FA, 1}, {0x3105, 0x312C, 1},
		{0x4E00, 0x9FA5, 1}, {0xAC00, 0xD7A3, 1},
	},
}

var nameCharNonASCII = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x00B7, 0x00B7, 1}, {0x00C0, 0x00D6, 1}, {0x00D8, 0x00F6, 1}, {0x00F8, 0x0131, 1},
		{0x0134, 0x013E, 1}, {0x0141, 0x0148, 1}, {0x014A, 0x017E, 1}, {0x0180, 0x01C3, 1},
		{0x01CD, 0x01F0, 1}, {0x01F4, 0x01F5, 1}, {0x01FA, 0x0217, 1}, {0x0250, 0x02A8, 1},
		{0x02BB, 0x02C1, 1}, {0x02D0, 0x02D1, 1}, {0x0300, 0x0345, 1}, {0x0360, 0x0361, 1},
		{0x0386, 0x038A, 1}, {0x038C, 0x038C, 1}, {0x038E, 0x03A1, 1}, {0x03A3, 0x03CE, 1},
		{0x03D0, 0x03D6, 1}, {0x03DA, 0x03DA, 1}, {0x03DC, 0x03DC, 1}, {0x03DE, 0x03DE, 1},
		{0x03E0, 0x03E0, 1}, {0x03E2, 0x03F3, 1}, {0x0401, 0x040C, 1}, {0x040E, 0x044F, 1},
		{0x0451, 0x045C, 1}, {0x045E, 0x0481, 1}, {0x0483, 0x0486, 1}, {0x0490, 0x04C4, 1},
		{0x04C7, 0x04C8, 1}, {0x04CB, 0x04CC, 1}, {0x04D0, 0x04EB, 1}, {0x04EE, 0x04F5, 1},
		{0x04F8, 0x04F9, 1}, {0x0531, 0x0556, 1}, {0x0559, 0x0559, 1}, {0x0561, 0x0586, 1},
		{0x0591, 0x05A1, 1}, {0x05A3, 0x05B9, 1}, {0x05BB, 0x05BD, 1}, {0x05BF, 0x05BF, 1},
		{0x05C1, 0x05C2, 1}, {0x05C4, 0x05C4, 1}, {0x05D0, 0x05EA, 1}, {0x05F0, 0x05F2, 1},
		{0x0621, 0x063A, 1}, {0x0640, 0x0652, 1}, {0x0660, 0x0669, 1}, {0x0670, 0x06B7, 1},
		{0x06BA, 0x06BE, 1}, {0x06C0, 0x06CE, 1}, {0x06D0, 0x06D3, 1}, {0x06D5, 0x06E8, 1},
		{0x06EA, 0x06ED, 1}, {0x06F0, 0x06F9, 1}, {0x0901, 0x0903, 1}, {0x0905, 0x0939, 1},
		{0x093C, 0x094D, 1}, {0x0951, 0x0954, 1}, {0x0958, 0x0963, 1}, {0x0966, 0x096F, 1},
		{0x0981, 0x0983, 1}, {0x0985, 0x098C, 1}, {0x098F, 0x0990, 1}, {0x0993, 0x09A8, 1},
		{0x09AA, 0x09B0, 1}, {0x09B2, 0x09B2, 1}, {0x09B6, 0x09B9, 1}, {0x09BC, 0x09BC, 1},
		{0x09BE, 0x09C4, 1}, {0x09C7, 0x09C8, 1}, {0x09CB, 0x09CD, 1}, {0x09D7, 0x09D7, 1},
		{0x09DC, 0x09DD, 1}, {0x09DF, 0x09E3, 1}, {0x09E6, 0x09F1, 1}, {0x0A02, 0x0A02, 1},
		{0x0A05, 0x0A0A, 1}, {0x0A0F, 0x0A10, 1}, {0x0A13, 0x0A28, 1}, {0x0A2A, 0x0A30, 1},
		{0x0A32, 0x0A33, 1}, {0x0A35, 0x0A36, 1}, {0x0A38, 0x0A39, 1}, {0x0A3C, 0x0A3C, 1},
		{0x0A3E, 0x0A42, 1}, {0x0A47, 0x0A48, 1}, {0x0A4B, 0x0A4D, 1}, {0x0A59, 0x0A5C, 1},
		{0x0A5E, 0x0A5E, 1}, {0x0A66, 0x0A74, 1}, {0x0A81, 0x0A83, 1}, {0x0A85, 0x0A8B, 1},
		{0x0A8D, 0x0A8D, 1}, {0x0A8F, 0x0A91, 1}, {0x0A93, 0x0AA8, 1}, {0x0AAA, 0x0AB0, 1},
		{0x0AB2, 0x0AB3, 1}, {0x0AB5, 0x0AB9, 1}, {0x0ABC, 0x0AC5, 1}, {0x0AC7, 0x0AC9, 1},
		{0x0ACB, 0x0ACD, 1}, {0x0AE0, 0x0AE0, 1}, {0x0AE6, 0x0AEF, 1}, {0x0B01, 0x0B03, 1},
		{0x0B05, 0x0B0C, 1}, {0x0B0F, 0x0B10, 1}, {0x0B13, 0x0B28, 1}, {0x0B2A, 0x0B30, 1},
		{0x0B32, 0x0B33, 1}, {0x0B36, 0x0B39, 1}, {0x0B3C, 0x0B43, 1}, {0x0B47, 0x0B48, 1},
		{0x0B4B, 0x0B4D, 1}, {0x0B56, 0x0B57, 1}, {0x0B5C, 0x0B5D, 1}, {0x0B5F, 0x0B61, 1},
		{0x0B66, 0x0B6F, 1}, {0x0B82, 0x0B83, 1}, {0x0B85, 0x0B8A, 1}, {0x0B8E, 0x0B90, 1},
		{0x0B92, 0x0B95, 1}, {0x0B99, 0x0B9A, 1}, {0x0B9C, 0x0B9C, 1}, {0x0B9E, 0x0B9F, 1},
		{0x0BA3, 0x0BA4, 1}, {0x0BA8, 0x0BAA, 1}, {0x0BAE, 0x0BB5, 1}, {0x0BB7, 0x0BB9, 1},
		{0x0BBE, 0x0BC2, 1}, {0x0BC6, 0x0BC8, 1}, {0x0BCA, 0x0BCD, 1}, {0x0BD7, 0x0BD7, 1},
		{0x0BE7, 0x0BEF, 1}, {0x0C01, 0x0C03, 1}, {0x0C05, 0x0C0C, 1}, {0x0C0E, 0x0C10, 1},
		{0x0C12, 0x0C28, 1}, {0x0C2A, 0x0C33, 1}, {0x0C35, 0x0C39, 1}, {0x0C3E, 0x0C44, 1},
		{0x0C46, 0x0C48, 1}, {0x0C4A, 0x0C4D, 1}, {0x0C55, 0x0C56, 1}, {0x0C60, 0x0C61, 1},
		{0x0C66, 0x0C6F, 1}, {0x0C82, 0x0C83, 1}, {0x0C85, 0x0C8C, 1}, {0x0C8E, 0x0C90, 1},
		{0x0C92, 0x0CA8, 1}, {0x0CAA, 0x0CB3, 1}, {0x0CB5, 0x0CB9, 1}, {0x0CBE, 0x0CC4, 1},
		{0x0CC6, 0x0CC8, 1}, {0x0CCA, 0x0CCD, 1}, {0x0CD5, 0x0CD6, 1}, {0x0CDE, 0x0CDE, 1},
		{0x0CE0, 0x0CE1, 1}, {0x0CE6, 0x0CEF, 1}, {0x0D02, 0x0D03, 1}, {0x0D05, 0x0D0C, 1},
		{0x0D0E, 0x0D10, 1}, {0x0D12, 0x0D28, 1}, {0x0D2A, 0x0D39, 1}, {0x0D3E, 0x0D43, 1},
		{0x0D46, 0x0D48, 1}, {0x0D4A, 0x0D4D, 1}, {0x0D57, 0x0D57, 1}, {0x0D60, 0x0D61, 1},
		{0x0D66, 0x0D6F, 1}, {0x0E01, 0x0E2E, 1}, {0x0E30, 0x0E3A, 1}, {0x0E40, 0x0E4E, 1},
		{0x0E50, 0x0E59, 1}, {0x0E81, 0x0E82, 1}, {0x0E84, 0x0E84, 1}, {0x0E87, 0x0E88, 1},
		{0x0E8A, 0x0E8A, 1}, {0x0E8D, 0x0E8D, 1}, {0x0E94, 0x0E97, 1}, {0x0E99, 0x0E9F, 1},
		{0x0EA1, 0x0EA3, 1}, {0x0EA5, 0x0EA5, 1}, {0x0EA7, 0x0EA7, 1}, {0x0EAA, 0x0EAB, 1},
		{0x0EAD, 0x0EAE, 1}, {0x0EB0, 0x0EB9, 1}, {0x0EBB, 0x0EBD, 1}, {0x0EC0, 0x0EC4, 1},
		{0x0EC6, 0x0EC6, 1}, {0x0EC8, 0x0ECD, 1}, {0x0ED0, 0x0ED9, 1}, {0x0F18, 0x0F19, 1},
		{0x0F20, 0x0F29, 1}, {0x0F35, 0x0F35, 1}, {0x0F37, 0x0F37, 1}, {0x0F39, 0x0F39, 1},
		{0x0F3E, 0x0F47, 1}, {0x0F49, 0x0F69, 1}, {0x0F71, 0x0F84, 1}, {0x0F86, 0x0F8B, 1},
		{0x0F90, 0x0F95, 1}, {0x0F97, 0x0F97, 1}, {0x0F99, 0x0FAD, 1}, {0x0FB1, 0x0FB7, 1},
		{0x0FB9, 0x0FB9, 1}, {0x10A0, 0x10C5, 1}, {0x10D0, 0x10F6, 1}, {0x1100, 0x1100, 1},
		{0x1102, 0x1103, 1}, {0x1105, 0x1107, 1}, {0x1109, 0x1109, 1}, {0x110B, 0x110C, 1},
		{0x110E, 0x1112, 1}, {0x113C, 0x113C, 1}, {0x113E, 0x113E, 1}, {0x1140, 0x1140, 1},
		{0x114C, 0x114C, 1}, {0x114E, 0x114E, 1}, {0x1150, 0x1150, 1}, {0x1154, 0x1155, 1},
		{0x1159, 0x1159, 1}, {0x115F, 0x1161, 1}, {0x1163, 0x1163, 1}, {0x1165, 0x1165, 1},
		{0x1167, 0x1167, 1}, {0x1169, 0x1169, 1}, {0x116D, 0x116E, 1}, {0x1172, 0x1173, 1},
		{0x1175, 0x1175, 1}, {0x119E, 0x119E, 1}, {0x11A8, 0x11A8, 1}, {0x11AB, 0x11AB, 1},
		{0x11AE, 0x11AF, 1}, {0x11B7, 0x11B8, 1}, {0x11BA, 0x11BA, 1}, {0x11BC, 0x11C2, 1},
		{0x11EB, 0x11EB, 1}, {0x11F0, 0x11F0, 1}, {0x11F9, 0x11F9, 1}, {0x1E00, 0x1E9B, 1},
		{0x1EA0, 0x1EF9, 1}, {0x1F00, 0x1F15, 1}, {0x1F18, 0x1F1D, 1}, {0x1F20, 0x1F45, 1},
		{0x1F48, 0x1F4D, 1}, {0x1F50, 0x1F57, 1}, {0x1F59, 0x1F59, 1}, {0x1F5B, 0x1F5B, 1},
		{0x1F5D, 0x1F5D, 1}, {0x1F5F, 0x1F7D, 1}, {0x1F80, 0x1FB4, 1}, {0x1FB6, 0x1FBC, 1},
		{0x1FBE, 0x1FBE, 1}, {0x1FC2, 0x1FC4, 1}, {0x1FC6, 0x1FCC, 1}, {0x1FD0, 0x1FD3, 1},
		{0x1FD6, 0x1FDB, 1}, {0x1FE0, 0x1FEC, 1}, {0x1FF2, 0x1FF4, 1}, {0x1FF6, 0x1FFC, 1},
		{0x20D0, 0x20DC, 1}, {0x20E1, 0x20E1, 1}, {0x2126, 0x2126, 1}, {0x212A, 0x212B, 1},
		{0x212E, 0x212E, 1}, {0x2180, 0x2182, 1}, {0x3005, 0x3005, 1}, {0x3007, 0x3007, 1},
		{0x3021, 0x302F, 1}, {0x3031, 0x3035, 1}, {0x3041, 0x3094, 1}, {0x3099, 0x309A, 1},
		{0x309D, 0x309E, 1}, {0x30A1, 0x30FA, 1}, {0x30FC, 0x30FE, 1}, {0x3105, 0x312C, 1},
		{0x4E00, 0x9FA5, 1}, {0xAC00, 0xD7A3, 1},
	},
}
