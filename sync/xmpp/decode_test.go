package xmpp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

// decodeElementReference is DecodeElement as it was before decode.go: the
// encoding/xml version, kept verbatim as the reference the new decoder is
// compared with (FuzzDecodeMatchesReference, BenchmarkDecodeMAMResult).
func decodeElementReference(frame []byte, lim Limits) (*Element, error) {
	lim = lim.withDefaults()
	if int64(len(frame)) > lim.MaxFrameBytes {
		return nil, &StreamError{Condition: "policy-violation", Text: "frame too large", Local: true,
			Err: fmt.Errorf("%d bytes > limit %d", len(frame), lim.MaxFrameBytes)}
	}
	if !utf8.Valid(frame) {
		return nil, &StreamError{Condition: "not-well-formed", Local: true, Err: errors.New("invalid UTF-8")}
	}
	d := xml.NewDecoder(bytes.NewReader(frame))
	d.Strict = true
	d.CharsetReader = nil // only UTF-8: a declared other encoding is an error
	var (
		stack    []*Element
		starts   []int64
		texts    [][]byte // character data per open element, joined once at its end
		root     *Element
		elements int
	)
	bad := func(cond string, err error) (*Element, error) {
		return nil, &StreamError{Condition: cond, Local: true, Err: err}
	}
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			if root == nil || len(stack) > 0 {
				return bad("not-well-formed", errors.New("incomplete element"))
			}
			return root, nil
		}
		if err != nil {
			return bad("not-well-formed", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return bad("not-well-formed", errors.New("more than one element in a frame"))
			}
			if len(stack) >= lim.MaxDepth {
				return bad("policy-violation", fmt.Errorf("nesting deeper than %d", lim.MaxDepth))
			}
			if len(t.Attr) > lim.MaxAttrs {
				return bad("policy-violation", fmt.Errorf("more than %d attributes", lim.MaxAttrs))
			}
			elements++
			if elements > lim.MaxElements {
				return bad("policy-violation", fmt.Errorf("more than %d elements", lim.MaxElements))
			}
			if refUndeclaredPrefix(t.Name.Space) {
				return bad("bad-namespace-prefix", fmt.Errorf("undeclared prefix %q", t.Name.Space))
			}
			el := &Element{Name: t.Name}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				if a.Name.Space == "xml" {
					a.Name.Space = nsXML
				}
				el.Attrs = append(el.Attrs, a)
			}
			if n := len(stack); n > 0 {
				stack[n-1].Children = append(stack[n-1].Children, el)
			} else {
				root = el
			}
			stack = append(stack, el)
			starts = append(starts, off)
			texts = append(texts, nil)
		case xml.EndElement:
			n := len(stack)
			if n == 0 { // encoding/xml reports this itself; be defensive
				return bad("not-well-formed", errors.New("unbalanced end tag"))
			}
			end := d.InputOffset()
			if start := starts[n-1]; start >= 0 && end <= int64(len(frame)) && start <= end {
				stack[n-1].Raw = frame[start:end:end]
			}
			stack[n-1].Text = string(texts[n-1])
			stack, starts, texts = stack[:n-1], starts[:n-1], texts[:n-1]
		case xml.CharData:
			if n := len(stack); n > 0 {
				texts[n-1] = append(texts[n-1], t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return bad("not-well-formed", errors.New("text outside the element"))
			}
		case xml.ProcInst:
			if t.Target == "xml" && root == nil && off == 0 {
				continue // an XML declaration at the very start is tolerated
			}
			return bad("restricted-xml", errors.New("processing instruction"))
		case xml.Comment:
			return bad("restricted-xml", errors.New("comment"))
		case xml.Directive:
			return bad("restricted-xml", errors.New("DTD or directive"))
		}
	}
}

// undeclaredPrefix reports an element namespace that encoding/xml could not
// resolve (it leaves the bare prefix in Name.Space).
func refUndeclaredPrefix(space string) bool {
	return space != "" && !strings.Contains(space, ":")
}

// diffElements describes the first difference between two trees, "" if none.
// nil and empty slices differ: the trees must be identical, not just similar.
func diffElements(path string, got, want *Element) string {
	path += "/" + want.Name.Local
	switch {
	case got.Name != want.Name:
		return fmt.Sprintf("%s: name %v, want %v", path, got.Name, want.Name)
	case !reflect.DeepEqual(got.Attrs, want.Attrs):
		return fmt.Sprintf("%s: attrs %#v, want %#v", path, got.Attrs, want.Attrs)
	case got.Text != want.Text:
		return fmt.Sprintf("%s: text %q, want %q", path, got.Text, want.Text)
	case !bytes.Equal(got.Raw, want.Raw) || (got.Raw == nil) != (want.Raw == nil) || cap(got.Raw) != len(got.Raw):
		return fmt.Sprintf("%s: raw %q (cap %d), want %q", path, got.Raw, cap(got.Raw), want.Raw)
	case len(got.Children) != len(want.Children) || (got.Children == nil) != (want.Children == nil):
		return fmt.Sprintf("%s: %d children, want %d", path, len(got.Children), len(want.Children))
	}
	for i := range want.Children {
		if d := diffElements(path, got.Children[i], want.Children[i]); d != "" {
			return d
		}
	}
	return ""
}

func condition(err error) string {
	var se *StreamError
	if errors.As(err, &se) {
		return se.Condition
	}
	return ""
}

func ruleOf(err error) decodeRule {
	var de *decodeError
	if errors.As(err, &de) {
		return de.Rule
	}
	return ""
}

// checkAgainstReference: both decoders accept with identical trees, or both
// reject with the same condition, or the new one rejects by a rule the
// reference does not enforce and stricterRules confirms the input breaks it.
func checkAgainstReference(t *testing.T, in []byte, lim Limits) {
	t.Helper()
	got, gerr := DecodeElement(in, lim)
	want, rerr := decodeElementReference(in, lim)
	if (got == nil) == (gerr == nil) {
		t.Fatalf("el=%v err=%v", got, gerr)
	}
	// The read loop's path (strings share the frame) decodes the same.
	owned, oerr := decodeOwnedElement(bytes.Clone(in), lim)
	if (oerr == nil) != (gerr == nil) || gerr != nil && condition(oerr) != condition(gerr) {
		t.Fatalf("owned frame: err %v, DecodeElement: %v", oerr, gerr)
	}
	if gerr == nil {
		if d := diffElements("", owned, got); d != "" {
			t.Fatalf("owned frame decodes differently for %q: %s", in, d)
		}
	}
	var se *StreamError
	if gerr != nil && (!errors.As(gerr, &se) || !se.Local || se.Condition == "") {
		t.Fatalf("untyped error %v", gerr)
	}
	switch {
	case gerr == nil && rerr == nil:
		if d := diffElements("", got, want); d != "" {
			t.Fatalf("trees differ for %q: %s", in, d)
		}
	case gerr == nil:
		t.Fatalf("accepted what encoding/xml rejects (%v): %q", rerr, in)
	case rerr == nil || condition(gerr) != condition(rerr):
		rule := ruleOf(gerr)
		if rule == "" {
			t.Fatalf("%q: got %v, reference %v", in, gerr, rerr)
		}
		if !stricterRules(in)[rule] {
			t.Fatalf("%q: rejected by rule %s (%v) that the oracle does not see; reference: %v", in, rule, gerr, rerr)
		}
	}
}

var (
	surrogateRef = regexp.MustCompile(`&#(x[0-9a-fA-F]+|[0-9]+);`)
	xmlDeclRE    = regexp.MustCompile(`^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*("1\.0"|'1\.0')` +
		`([ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*("(?i:utf-8)"|'(?i:utf-8)'))?` +
		`([ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*("(yes|no)"|'(yes|no)'))?[ \t\r\n]*\?>$`)
)

// stricterRules is the oracle for the rules decode.go enforces beyond
// encoding/xml (XML 1.0, Namespaces in XML 1.0, RFC 6120 §11): it walks
// encoding/xml's raw tokens (no namespace processing) and scans their bytes,
// sharing no code with decode.go.
func stricterRules(in []byte) map[decodeRule]bool {
	found := map[decodeRule]bool{}
	d := xml.NewDecoder(bytes.NewReader(in))
	d.Strict = true
	depth := 0
	var scopes []map[string]string
	lookup := func(p string) (string, bool) {
		for i := len(scopes) - 1; i >= 0; i-- {
			if u, ok := scopes[i][p]; ok {
				return u, true
			}
		}
		return "", false
	}
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			break
		}
		raw := in[off:d.InputOffset()]
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if strings.Contains(t.Name.Local, ":") || t.Name.Space == "" && t.Name.Local == "xmlns" {
				found[ruleQName] = true
			}
			decls := map[string]string{}
			for _, a := range t.Attr {
				if strings.Contains(a.Name.Local, ":") {
					found[ruleQName] = true
				}
				p, isDecl := a.Name.Local, a.Name.Space == "xmlns"
				if a.Name.Space == "" && a.Name.Local == "xmlns" {
					p, isDecl = "", true
				}
				if !isDecl {
					continue
				}
				if _, dup := decls[p]; dup {
					found[ruleDupAttr] = true
				}
				decls[p] = a.Value
				switch {
				case p == "" && (a.Value == nsXML || a.Value == "http://www.w3.org/2000/xmlns/"):
					found[ruleNSDecl] = true
				case p == "":
				case a.Value == "", p == "xmlns", a.Value == "http://www.w3.org/2000/xmlns/", (p == "xml") != (a.Value == nsXML):
					found[ruleNSDecl] = true
				}
			}
			scopes = append(scopes, decls)
			seen := map[xml.Name]bool{}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				n := a.Name
				switch n.Space {
				case "":
				case "xml":
					n.Space = nsXML
				default:
					u, ok := lookup(n.Space)
					if !ok {
						found[ruleAttrPrefix] = true
					}
					n.Space = u
				}
				if seen[n] {
					found[ruleDupAttr] = true
				}
				seen[n] = true
			}
			if missingAttrSpace(raw) {
				found[ruleAttrSpace] = true
			}
			if hasSurrogateRef(raw) {
				found[ruleCharRef] = true
			}
		case xml.EndElement:
			depth--
			if len(scopes) > 0 {
				scopes = scopes[:len(scopes)-1]
			}
		case xml.CharData:
			if depth == 0 && strings.Trim(string(raw), " \t\r\n") != "" {
				found[ruleTopLevel] = true
			}
			if !bytes.HasPrefix(raw, []byte("<![CDATA[")) && hasSurrogateRef(raw) {
				found[ruleCharRef] = true
			}
		case xml.ProcInst:
			if t.Target == "xml" && off == 0 && !xmlDeclRE.Match(raw) {
				found[ruleXMLDecl] = true
			}
		}
	}
	return found
}

func hasSurrogateRef(b []byte) bool {
	for _, m := range surrogateRef.FindAllSubmatch(b, -1) {
		s, base := string(m[1]), 10
		if s[0] == 'x' {
			s, base = s[1:], 16
		}
		if v, err := strconv.ParseUint(s, base, 64); err == nil && v >= 0xD800 && v <= 0xDFFF {
			return true
		}
	}
	return false
}

// missingAttrSpace scans a start tag encoding/xml accepted for a value's
// closing quote followed by something other than whitespace, / or >.
func missingAttrSpace(tag []byte) bool {
	for i := 0; i < len(tag); i++ {
		if tag[i] != '=' {
			continue
		}
		j := i + 1
		for j < len(tag) && strings.IndexByte(" \t\r\n", tag[j]) >= 0 {
			j++
		}
		if j >= len(tag) {
			return false
		}
		k := bytes.IndexByte(tag[j+1:], tag[j])
		if k < 0 {
			return false
		}
		end := j + 1 + k + 1
		if end < len(tag) && strings.IndexByte(" \t\r\n/>", tag[end]) < 0 {
			return true
		}
		i = end - 1
	}
	return false
}

// referenceLimits are small so that fuzzing reaches every limit.
var referenceLimits = []Limits{{}, {MaxFrameBytes: 4096, MaxDepth: 4, MaxAttrs: 3, MaxElements: 12}}

func corpusSeeds(tb testing.TB) [][]byte {
	files, _ := filepath.Glob("testdata/*_*.xml")
	var out [][]byte
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	for _, s := range decodeVectors {
		out = append(out, []byte(s))
	}
	for _, s := range stricterVectors {
		out = append(out, []byte(s.in))
	}
	return append(out, mamResultFrame)
}

// decodeVectors exercise what both decoders must treat alike.
var decodeVectors = []string{
	`<a xmlns="x:y"/>`,
	"  \r\n<a xmlns='x:y'/>\n\t ",
	`<?xml version="1.0"?><a xmlns="x:y"/>`,
	`<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>` + "\n" + `<a xmlns="x:y"/>`,
	` <?xml version="1.0"?><a xmlns="x:y"/>`,
	`<a xmlns="x:y"/><?xml version="1.0"?>`,
	`<?xml version="1.1"?><a xmlns="x:y"/>`,
	`<?xml version="1.0" encoding="latin1"?><a xmlns="x:y"/>`,
	`<a xmlns="x:y"><?pi data?></a>`,
	`<a xmlns="x:y"><?pi data</a>`,
	`<a xmlns="x:y"><? x?></a>`,
	`<a xmlns="x:y"><!-- c --></a>`,
	`<a xmlns="x:y"><!-- c -- --></a>`,
	`<a xmlns="x:y"><!- c --></a>`,
	`<a xmlns="x:y"><!-- c</a>`,
	`<!DOCTYPE a><a xmlns="x:y"/>`,
	`<!DOCTYPE a [<!ENTITY e "<x>"> <!-- > --> ]><a xmlns="x:y"/>`,
	`<!DOCTYPE a [<!ENTITY e "x"`,
	`<!>`, `<!`, `<![`, `<![CDATA`, `<![CDATX[`,
	`<a xmlns="x:y"><![CDATA[<b>&amp;]]]]><![CDATA[>]]></a>`,
	`<a xmlns="x:y"><![CDATA[` + "x\r\ny\rz" + `]]>tail</a>`,
	`<a xmlns="x:y"><![CDATA[x`,
	`<a xmlns="x:y"><![CDATA[` + "\x01" + `]]></a>`,
	`<a xmlns="x:y">]]></a>`,
	`<a xmlns="x:y" b="]]>"/>`,
	`<a xmlns="x:y">&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x1F600;&#0000067;</a>`,
	`<a xmlns="x:y">&#0;</a>`, `<a xmlns="x:y">&#x110000;</a>`, `<a xmlns="x:y">&#xFFFE;</a>`,
	`<a xmlns="x:y">&#X41;</a>`, `<a xmlns="x:y">&#x;</a>`, `<a xmlns="x:y">&#;</a>`,
	`<a xmlns="x:y">&#99999999999999999999999;</a>`, `<a xmlns="x:y">&nbsp;</a>`,
	`<a xmlns="x:y">&amp</a>`, `<a xmlns="x:y">&;</a>`, `<a xmlns="x:y">& </a>`,
	"<a xmlns=\"x:y\">\x01</a>", "<a xmlns=\"x:y\" b=\"\x01\"/>", "<a xmlns=\"x:y\">\uFFFE</a>",
	"<a xmlns=\"x:y\">\uFFFF</a>", "<a xmlns=\"x:y\">\uFFFD\uE000\U0010FFFF</a>",
	"<a xmlns=\"x:y\">x\r\ny\r\rz\n</a>",
	"<a xmlns=\"x:y\" b='x\r\ny\tz\nw&#13;&#10;'/>",
	`<a xmlns="x:y" b='"' c="'" d='&lt;&gt;'/>`,
	`<a xmlns="x:y" b="<"/>`, `<a xmlns="x:y" b=c/>`, `<a xmlns="x:y" b/>`, `<a xmlns="x:y" b="c`,
	`<a xmlns="x:y" b = 'c' />`, `<a xmlns="x:y"/ >`, `< a xmlns="x:y"/>`, `<a xmlns="x:y"></ a>`,
	`<a xmlns="x:y"></a >`, `<a xmlns="x:y"></a x>`, `<a xmlns="x:y"></b>`, `<a xmlns="x:y"></a`,
	`<a xmlns="x:y">text<b>in b</b>tail<c/>more</a>`,
	`<a xmlns="x:y">` + "\n  <b/>\n  <c>x</c>\n" + `</a>`,
	`<p:a xmlns:p="urn:p"><p:b/><b xmlns="urn:d"><c/></b><d/></p:a>`,
	`<p:a xmlns:p="urn:p"></q:a>`,
	`<p:a xmlns:p="urn:p" xmlns:q="urn:p"></q:a>`,
	`<a xmlns="urn:a" xmlns:p="urn:p" p:x="1" xml:lang="en" y="2"><b xmlns:p="urn:q" p:x="3"/></a>`,
	`<a xmlns="urn:a"><b xmlns=""><c/></b></a>`,
	`<a xmlns="foo"/>`, `<p:a xmlns:p="foo"/>`, `<foo:a/>`, `<xmlns:a/>`, `<xml:a/>`,
	`<a:b:c xmlns:a="x:y"/>`, `<a xmlns="x:y" b:c:d="1"/>`,
	`<a xmlns="x:y"/>tail`, `<a xmlns="x:y"/></a>`, `<a xmlns="x:y"/><b/>`, `<a xmlns="x:y"/><!-- c -->`,
	`</a>`, ``, ` `, `<`, `<a`, `<a xmlns="x:y">`, `<a xmlns="x:y"><b></a>`,
	`<café xmlns="x:y" ñ="1"/>`, "<a\u00B7b xmlns=\"x:y\"/>", "<\u00B7 xmlns=\"x:y\"/>",
	"<a xmlns=\"x:y\" \u0300=\"1\"/>", `<1a/>`, `<-a/>`, `<a.b-c_d1 xmlns="x:y"/>`,
	strings.Repeat("<a>", 5) + strings.Repeat("</a>", 5),
	`<a xmlns="x:y" b="1" c="2" d="3" e="4"/>`,
	`<a xmlns="x:y"><b/><b/><b/><b/><b/><b/><b/><b/><b/><b/><b/><b/><b/></a>`,
}

type stricterVector struct {
	in   string
	cond string
	rule decodeRule
}

// stricterVectors: encoding/xml accepts these, XML 1.0 / Namespaces 1.0 do not.
var stricterVectors = []stricterVector{
	{`<:a xmlns="x:y"/>`, "not-well-formed", ruleQName},
	{`<a: xmlns="x:y"/>`, "not-well-formed", ruleQName},
	{`<a xmlns="x:y" :b="1"/>`, "not-well-formed", ruleQName},
	{`<a xmlns="x:y" xmlns:="x:z"/>`, "not-well-formed", ruleQName},
	{`<xmlns xmlns="x:y"/>`, "not-well-formed", ruleQName},
	{`<a xmlns="x:y" b="1"c="2"/>`, "not-well-formed", ruleAttrSpace},
	{`<a xmlns="x:y" xmlns:p=""><p:b/></a>`, "bad-namespace-prefix", ruleNSDecl},
	{`<a xmlns="x:y" xmlns:xml="urn:other"/>`, "bad-namespace-prefix", ruleNSDecl},
	{`<a xmlns="x:y" xmlns:p="http://www.w3.org/XML/1998/namespace"/>`, "bad-namespace-prefix", ruleNSDecl},
	{`<a xmlns="x:y" xmlns:xmlns="urn:x"/>`, "bad-namespace-prefix", ruleNSDecl},
	{`<a xmlns="x:y" xmlns:p="http://www.w3.org/2000/xmlns/"/>`, "bad-namespace-prefix", ruleNSDecl},
	{`<a xmlns="x:y" p:b="1"/>`, "bad-namespace-prefix", ruleAttrPrefix},
	{`<a xmlns="x:y" b="1" b="2"/>`, "not-well-formed", ruleDupAttr},
	{`<a xmlns="x:y" xmlns:p="urn:p" xmlns:q="urn:p" p:b="1" q:b="2"/>`, "not-well-formed", ruleDupAttr},
	{`<a xmlns="x:y" xmlns="x:y"/>`, "not-well-formed", ruleDupAttr},
	{`<a xmlns="x:y" xmlns:p="urn:p" xmlns:p="urn:p"/>`, "not-well-formed", ruleDupAttr},
	{"<a xmlns=\"x:y\"/>\u00A0", "not-well-formed", ruleTopLevel},
	{"\u2028<a xmlns=\"x:y\"/>", "not-well-formed", ruleTopLevel},
	{`<a xmlns="x:y"/>&#32;`, "not-well-formed", ruleTopLevel},
	{`<![CDATA[ ]]><a xmlns="x:y"/>`, "not-well-formed", ruleTopLevel},
	{`<a xmlns="x:y">&#xD800;</a>`, "not-well-formed", ruleCharRef},
	{`<a xmlns="x:y" b="&#57343;"/>`, "not-well-formed", ruleCharRef},
	{`<?xml?><a xmlns="x:y"/>`, "not-well-formed", ruleXMLDecl},
	{`<?xml encoding="utf-8"?><a xmlns="x:y"/>`, "not-well-formed", ruleXMLDecl},
	{`<?xml version="1.0" standalone="maybe"?><a xmlns="x:y"/>`, "not-well-formed", ruleXMLDecl},
	{`<?xml version="1.0"encoding="utf-8"?><a xmlns="x:y"/>`, "not-well-formed", ruleXMLDecl},
}

func TestDecodeMatchesReferenceVectors(t *testing.T) {
	for _, in := range corpusSeeds(t) {
		for _, lim := range referenceLimits {
			checkAgainstReference(t, in, lim)
		}
	}
}

// TestDecodeStricterThanReference documents each rule encoding/xml does not
// enforce: the reference accepts the input, the new decoder refuses it.
func TestDecodeStricterThanReference(t *testing.T) {
	for _, v := range stricterVectors {
		if _, err := decodeElementReference([]byte(v.in), Limits{}); err != nil {
			t.Errorf("%q: the reference rejects it too (%v): not a divergence", v.in, err)
		}
		_, err := DecodeElement([]byte(v.in), Limits{})
		if condition(err) != v.cond || ruleOf(err) != v.rule {
			t.Errorf("%q: %v (rule %q), want %s by rule %s", v.in, err, ruleOf(err), v.cond, v.rule)
		}
		if !stricterRules([]byte(v.in))[v.rule] {
			t.Errorf("%q: oracle misses rule %s", v.in, v.rule)
		}
	}
}

const maxFuzzInput = 8 << 10

// FuzzDecodeMatchesReference is differential fuzzing against encoding/xml.
func FuzzDecodeMatchesReference(f *testing.F) {
	for _, s := range corpusSeeds(f) {
		if len(s) <= maxFuzzInput {
			f.Add(s) // the 100 KB vector is in TestDecodeMatchesReferenceVectors
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > maxFuzzInput {
			return // large inputs only slow the fuzzer's minimisation down
		}
		for _, lim := range referenceLimits {
			checkAgainstReference(t, in, lim)
		}
	})
}

// TestNameTablesMatchReference checks nameStartNonASCII and nameCharNonASCII
// against encoding/xml for every non-ASCII rune.
func TestNameTablesMatchReference(t *testing.T) {
	step := rune(1)
	if testing.Short() {
		step = 17
	}
	accepts := func(s string) bool {
		d := xml.NewDecoder(strings.NewReader(s))
		d.Strict = true
		_, err := d.RawToken()
		return err == nil
	}
	for r := rune(0x80); r <= 0x10FFFF; r += step {
		if !utf8.ValidRune(r) {
			continue
		}
		if got, want := isNonASCIIName(string(r)), accepts("<"+string(r)+"/>"); got != want {
			t.Fatalf("%U as first name character: %v, encoding/xml %v", r, got, want)
		}
		if got, want := isNonASCIIName("a"+string(r)), accepts("<a"+string(r)+"/>"); got != want {
			t.Fatalf("%U in a name: %v, encoding/xml %v", r, got, want)
		}
	}
}

// The result shares arenas; appending to one element's attributes or children
// must not overwrite a neighbour's.
func TestDecodedSlicesAreCapped(t *testing.T) {
	el, err := DecodeElement([]byte(`<a xmlns="x:y" p="1"><b q="2"/><c r="3"><d/></c></a>`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	el.SetAttr("z", "9")
	el.Child("", "b").SetAttr("z", "8")
	el.Append(NewElement("x:y", "e"))
	el.Child("", "c").Append(NewElement("x:y", "f"))
	want := `<a xmlns="x:y" p="1" z="9"><b q="2" z="8"/><c r="3"><d/><f/></c><e/></a>`
	if s := el.String(); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
	if c := el.Child("", "c"); c.Attr("r") != "3" || len(c.Children) != 2 {
		t.Fatalf("c = %s", c)
	}
}

func TestDecodeAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage changes allocations")
	}
	n := testing.AllocsPerRun(200, func() {
		if _, err := DecodeElement(mamResultFrame, Limits{}); err != nil {
			t.Fatal(err)
		}
	})
	// string(frame), elements, attributes, children, and the body (it has references).
	if n > 5 {
		t.Fatalf("%v allocations per MAM result, want <= 5", n)
	}
}

// TestOwnedFrameIsTheOnlyCopy: the read loop's frames are decoded in place
// (names and values are substrings of the frame, no second copy), while
// DecodeElement still copies, so a caller that reuses its buffer afterwards
// changes nothing it was given.
func TestOwnedFrameIsTheOnlyCopy(t *testing.T) {
	frame := []byte(`<message xmlns='jabber:client' id='abc123' from='ana@h.org/x'><body>HR 72</body></message>`)
	inFrame := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		start := uintptr(unsafe.Pointer(&frame[0]))
		return p >= start && p < start+uintptr(len(frame))
	}
	el, err := decodeOwnedElement(frame, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !inFrame(el.Attr("id")) || !inFrame(el.Attr("from")) {
		t.Error("owned frame: the id and from are copies, not parts of the frame")
	}
	el, err = DecodeElement(frame, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if inFrame(el.Attr("id")) {
		t.Error("DecodeElement: a value shares the caller's buffer")
	}
	copy(frame[bytes.Index(frame, []byte("abc123")):], "zzzzzz")
	if el.Attr("id") != "abc123" {
		t.Errorf("DecodeElement: id changed with the caller's buffer to %q", el.Attr("id"))
	}
}
