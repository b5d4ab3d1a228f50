package sync

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"rounds/sync/xmpp"
)

// What the admin tools publish (rounds admin publish-policy,
// publish-oncall; docs/CLI.md) is built and checked here with the clients'
// own decoder, so a document every device would refuse is never published.
// The app hands these to the CLI (app/documents.go). Document, the payload's
// type, is in pubsub.go.

// A published item reaches the devices wrapped in a pubsub answer or event
// (iq/pubsub/items/item, a few hundred bytes and four elements). The publish
// itself must pass the server's limit on what a client may send (Prosody's
// c2s_stanza_size_limit and ejabberd's max_stanza_size, both 256 KiB in
// their shipped configurations: serverStanzaBytes), and a device skips, as
// unreadable, a frame with more than xmpp.DefaultMaxElements elements. A
// payload that only just fits would be refused by the server or skipped by
// every device, so the schedule leaves this room for the wrapper.
const (
	serverStanzaBytes        = 256 << 10
	itemWrapperBytes         = 4 << 10
	itemWrapperElements      = 16
	MaxScheduleDocumentBytes = serverStanzaBytes - itemWrapperBytes
	maxScheduleElements      = xmpp.DefaultMaxElements - itemWrapperElements
)

// CheckScheduleDocument reads the payload back with the clients' own decoder,
// so what is published is what every device will read, and refuses one too
// large to reach them inside a pubsub item.
func CheckScheduleDocument(el *Document) error {
	doc := el.String()
	shifts := len(el.ChildrenNamed(NodeOnCall, "shift"))
	if len(doc) > MaxScheduleDocumentBytes || shifts+1 > maxScheduleElements {
		fit := shifts
		if len(doc) > MaxScheduleDocumentBytes {
			fit = int(int64(shifts) * MaxScheduleDocumentBytes / int64(len(doc)))
		}
		fit = min(fit, maxScheduleElements-1)
		return fmt.Errorf("the schedule is %d shifts (%d KiB); devices read at most %d KiB per published item, about %d shifts like these: publish a shorter period (e.g. the next two weeks) and publish again before it runs out",
			shifts, (len(doc)+1023)>>10, MaxScheduleDocumentBytes>>10, fit)
	}
	back, err := xmpp.DecodeSchedule([]byte(doc))
	if err != nil {
		return fmt.Errorf("the schedule would not read on the devices: %w", err)
	}
	if len(back) != shifts {
		return fmt.Errorf("the devices would read %d of %d shifts", len(back), shifts)
	}
	return nil
}

// PolicyDocument checks a policy document an administrator wrote with the
// clients' decoder and returns the element to publish.
func PolicyDocument(data []byte) (*Document, error) {
	el, err := decodeXMLFile(data)
	if err != nil {
		return nil, err
	}
	if el.Name.Space != NodePolicy || el.Name.Local != "policy" {
		return nil, fmt.Errorf("the root element is {%s}%s, want <policy xmlns='%s'>", el.Name.Space, el.Name.Local, NodePolicy)
	}
	if _, err := xmpp.ParseOrgPolicy(el); err != nil {
		return nil, err
	}
	return el, nil
}

// ScheduleDocument is the payload of the on-call node's item "current"
// (urn:rounds:oncall:0, docs/PROTOCOL.md), shifts in start order.
func ScheduleDocument(shifts []Shift) *Document {
	sorted := append([]Shift(nil), shifts...)
	sort.SliceStable(sorted, func(a, b int) bool {
		if !sorted[a].From.Equal(sorted[b].From) {
			return sorted[a].From.Before(sorted[b].From)
		}
		return sorted[a].Role < sorted[b].Role
	})
	el := xmpp.NewElement(NodeOnCall, "schedule")
	for _, s := range sorted {
		sh := xmpp.NewElement(NodeOnCall, "shift", "role", s.Role,
			"from", s.From.Format(time.RFC3339), "until", s.Until.Format(time.RFC3339))
		if s.JID != "" {
			sh.SetAttr("jid", s.JID)
		}
		if s.Backup != "" {
			sh.SetAttr("backup", s.Backup)
		}
		if s.Orders {
			sh.SetAttr("orders", "true")
		}
		el.Append(sh)
	}
	return el
}

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
