package cli

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"

	"rounds/sync/xmpp"
)

// decodeXMLFile reads an XML document an administrator wrote (policy.xml):
// the XML declaration and comments, which are normal in a file but not
// allowed on an XMPP stream, are cut out, and what remains is decoded by the
// same decoder the clients use for the published item.
func decodeXMLFile(data []byte) (*xmpp.Element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var cut [][2]int64
	for {
		start := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch tok.(type) {
		case xml.Comment, xml.ProcInst, xml.Directive:
			cut = append(cut, [2]int64{start, d.InputOffset()})
		}
	}
	var b bytes.Buffer
	prev := int64(0)
	for _, c := range cut {
		b.Write(data[prev:c[0]])
		prev = c[1]
	}
	b.Write(data[prev:])
	el, err := xmpp.DecodeElement(bytes.TrimSpace(b.Bytes()), xmpp.Limits{})
	if err != nil {
		return nil, fmt.Errorf("not well-formed XML: %w", err)
	}
	return el, nil
}
