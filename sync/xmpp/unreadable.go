package xmpp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"time"
)

// A stanza we cannot read is skipped, not a reason to end the stream. RFC
// 7395 puts exactly one stanza in each WebSocket message, so after a message
// that is too large, too deep, malformed or not UTF-8 the next message is the
// next stanza: the stream is still in step. Ending it instead would bring the
// same stanza back on the next connection (the server's MAM archive, or its
// XEP-0198 resend queue), and the client would never get past it.
//
// What the stanza was is read leniently from its first bytes (scanPrefix):
// enough to count it for XEP-0198, answer an iq, and tell the engine that a
// message from someone, or an archived result of one of its queries, exists
// but could not be shown.

// Reasons a stanza was unreadable (Unreadable.Reason).
const (
	ReasonTooLarge     = "too-large"      // over Limits.MaxFrameBytes
	ReasonTooDeep      = "too-deep"       // nesting over Limits.MaxDepth
	ReasonTooManyAttrs = "too-many-attrs" // an element over Limits.MaxAttrs
	ReasonTooMany      = "too-many-elements"
	ReasonBadUTF8      = "bad-utf8"
	ReasonMalformed    = "malformed" // not XML the decoder accepts
)

// Unreadable marks a Message the client received but could not decode: only
// the ids and addresses read from its first bytes are set, never a body.
type Unreadable struct {
	Reason string // one of the Reason constants
	Size   int64  // bytes of the WebSocket message
}

// unreadablePrefixBytes is how much of an unreadable message is kept to
// identify it: the opening tags of a message, its MAM or carbon wrapper and
// the forwarded message fit in far less; the body, which is what is usually
// large, comes after them.
const unreadablePrefixBytes = 16 << 10

// unreadableFrame is the error readStanza returns for a message it skipped.
type unreadableFrame struct {
	prefix []byte // at most unreadablePrefixBytes
	size   int64
	reason string
	cause  *StreamError // what readElement answers during setup
}

func (u *unreadableFrame) Error() string {
	return "xmpp: unreadable stanza (" + u.reason + "): " + u.cause.Error()
}

// unreadableReason names what the decoder refused.
func unreadableReason(se *StreamError) string {
	var de *decodeError
	switch {
	case se.Text == "frame too large":
		return ReasonTooLarge
	case se.Err != nil && se.Err.Error() == "invalid UTF-8":
		return ReasonBadUTF8
	case errors.As(se.Err, &de) && strings.HasPrefix(de.Msg, "nesting deeper"):
		return ReasonTooDeep
	case de != nil && strings.HasSuffix(de.Msg, "attributes"):
		return ReasonTooManyAttrs
	case de != nil && strings.HasSuffix(de.Msg, "elements"):
		return ReasonTooMany
	}
	return ReasonMalformed
}

// stanzaPrefix is what scanPrefix could read of a stanza's first bytes. Every
// field is as the sender of that part wrote it: the caller applies the same
// trust rules as for a readable stanza.
type stanzaPrefix struct {
	Name, Space        string // the top-level element ("" if none could be read)
	ID, From, To, Type string
	// StanzaIDs are XEP-0359 stanza-ids of the top-level message seen in the
	// prefix (servers usually append them last, so often none).
	StanzaIDs []StanzaID
	OriginID  string
	// PubSub is set when the message carries a pubsub event (not a chat).
	PubSub bool
	// Carbon is the XEP-0280 wrapper's direction, for a carbon.
	Carbon CarbonDirection
	// MAM result (XEP-0313): its queryid and archive id.
	QueryID, ResultID string
	// Stamp is the <forwarded><delay stamp> of a MAM result or carbon.
	Stamp time.Time
	// Inner is the forwarded message of a MAM result or carbon.
	Inner prefixInner
}

// prefixInner is the forwarded message inside a MAM result or carbon.
type prefixInner struct {
	ID, From, To, Type, OriginID string
	Seen                         bool // its start tag was in the prefix
}

// maxPrefixAttr bounds a value kept from the prefix (a JID is at most 3071
// bytes; ids are short).
const maxPrefixAttr = 3072

// scanPrefix reads what it can of a stanza from its first bytes. It never
// fails: it stops at the first error (the prefix usually ends mid-element)
// and returns what it had. encoding/xml is lenient here on purpose (Strict
// off); the input is at most unreadablePrefixBytes, so its costs are bounded.
func scanPrefix(prefix []byte) stanzaPrefix {
	var p stanzaPrefix
	if len(prefix) > unreadablePrefixBytes {
		prefix = prefix[:unreadablePrefixBytes]
	}
	d := xml.NewDecoder(bytes.NewReader(prefix))
	d.Strict = false
	// path holds the names of the open elements: path[0] is the stanza.
	var path []xml.Name
	in := func(depth int, space, local string) bool {
		return len(path) > depth && path[depth].Space == space && path[depth].Local == local
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return p
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name)
			if len(path) > 8 {
				continue // nothing we identify lies deeper
			}
			attr := func(name string) string {
				for _, a := range t.Attr {
					if a.Name.Space == "" && a.Name.Local == name {
						if len(a.Value) > maxPrefixAttr {
							return ""
						}
						return a.Value
					}
				}
				return ""
			}
			n := t.Name
			switch depth := len(path) - 1; {
			case depth == 0:
				p.Name, p.Space = n.Local, n.Space
				p.ID, p.From, p.To, p.Type = attr("id"), attr("from"), attr("to"), attr("type")
			case p.Name != "message":
			case depth == 1:
				switch {
				case n.Space == NSMAM && n.Local == "result":
					p.QueryID, p.ResultID = attr("queryid"), attr("id")
				case n.Space == NSCarbons && n.Local == "received":
					p.Carbon = CarbonReceived
				case n.Space == NSCarbons && n.Local == "sent":
					p.Carbon = CarbonSent
				case n.Space == NSSID && n.Local == "stanza-id":
					p.StanzaIDs = append(p.StanzaIDs, StanzaID{ID: attr("id"), By: attr("by")})
				case n.Space == NSSID && n.Local == "origin-id":
					p.OriginID = attr("id")
				case n.Space == NSPubSubEvent:
					p.PubSub = true
				}
			case depth == 3 && n.Space == NSDelay && n.Local == "delay" && in(2, NSForward, "forwarded") &&
				(in(1, NSMAM, "result") || p.Carbon != NotCarbon):
				if ts, err := time.Parse(time.RFC3339Nano, attr("stamp")); err == nil {
					p.Stamp = ts.UTC()
				}
			case depth == 3 && n.Space == NSClient && n.Local == "message" && in(2, NSForward, "forwarded") && !p.Inner.Seen &&
				(in(1, NSMAM, "result") || p.Carbon != NotCarbon):
				p.Inner.Seen = true
				p.Inner.ID, p.Inner.From, p.Inner.To, p.Inner.Type = attr("id"), attr("from"), attr("to"), attr("type")
			case depth == 4 && n.Space == NSSID && n.Local == "origin-id" && in(3, NSClient, "message"):
				p.Inner.OriginID = attr("id")
			}
		case xml.EndElement:
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
			if len(path) == 0 {
				return p // the stanza ended: anything after it is not ours
			}
		}
	}
}

// skipUnreadable handles a message the read loop could not decode. It
// reports whether the message was a stanza (XEP-0198 counts it as handled, so
// a resumed stream does not bring it back).
func (c *Client) skipUnreadable(uf *unreadableFrame) (stanza bool) {
	p := scanPrefix(uf.prefix)
	u := &Unreadable{Reason: uf.reason, Size: uf.size}
	stanza = (p.Space == NSClient || p.Space == "") && (p.Name == "message" || p.Name == "presence" || p.Name == "iq")
	// Ids and addresses only: never the content.
	c.log.Warn("xmpp: skipping unreadable stanza", "reason", u.Reason, "bytes", u.Size,
		"element", p.Name, "id", p.ID, "from", p.From, "type", p.Type, "queryid", p.QueryID, "result", p.ResultID)
	if !stanza {
		return false
	}
	switch p.Name {
	case "iq":
		c.unreadableIQ(p, u)
	case "message":
		if p.QueryID != "" || p.ResultID != "" {
			c.unreadableMAMResult(p, u)
			return true
		}
		c.unreadableMessage(p, u)
	}
	return true
}

// unreadableIQ answers a request we could not read with an error (RFC 6120
// §8.2.3: every get and set gets an answer), and fails our own request whose
// answer it was, so the caller does not wait for its timeout.
func (c *Client) unreadableIQ(p stanzaPrefix, u *Unreadable) {
	if p.ID == "" {
		return
	}
	cond := "bad-request"
	if u.Reason == ReasonTooLarge {
		cond = "policy-violation"
	}
	switch p.Type {
	case "get", "set":
		req := NewElement(NSClient, "iq", "id", p.ID, "from", p.From)
		_ = c.Send(IQError(req, "modify", cond))
	case "result", "error":
		ans := NewElement(NSClient, "iq", "type", "error", "id", p.ID, "from", p.From).Append(
			NewElement(NSClient, "error", "type", "cancel").Append(NewElement(nsStanzas, cond)))
		c.iqs.deliver(ans, c.JID())
	}
}

// unreadableMAMResult adds an unreadable result to its query's page in
// archive order, under the same rules as handleMAMResult (a pending query,
// from the archive's owner, with an archive id): the page's entry keeps the
// order and the cursor, and the engine records the gap instead of fetching
// the same page forever.
func (c *Client) unreadableMAMResult(p stanzaPrefix, u *Unreadable) {
	c.mam.mu.Lock()
	defer c.mam.mu.Unlock()
	mq := c.mam.pending[p.QueryID]
	if mq == nil || p.QueryID == "" {
		c.log.Warn("xmpp: dropping unreadable MAM result for an unknown query", "from", p.From)
		return
	}
	if !c.fromArchiveOwner(p.From, mq.owner) {
		c.log.Warn("xmpp: dropping spoofed unreadable MAM result", "err", ErrSpoofed, "from", p.From, "archive", mq.owner)
		return
	}
	if p.ResultID == "" {
		c.log.Warn("xmpp: dropping unreadable MAM result without id", "from", p.From)
		return
	}
	if len(mq.results) >= mq.limit {
		mq.overflow = true
		return
	}
	if !mq.keep(0) { // the entry holds ids only; it still cannot follow a cut
		return
	}
	m := &Message{ID: p.Inner.ID, From: p.Inner.From, To: p.Inner.To, Type: p.Inner.Type,
		OriginID: p.Inner.OriginID, Carbon: NotCarbon, Unreadable: u}
	if m.Type == "" {
		m.Type = "normal"
	}
	mq.results = append(mq.results, ArchivedMessage{ID: p.ResultID, Timestamp: p.Stamp, Message: m})
}

// unreadableMessage hands a live message we could not read to OnMessage as a
// Message with Unreadable set, after the checks deliverMessage makes (a carbon
// only from our own account). Errors, headlines and pubsub events are not
// conversation messages and are only logged.
func (c *Client) unreadableMessage(p stanzaPrefix, u *Unreadable) {
	if c.cfg.OnMessage == nil || p.PubSub || p.Type == "error" || p.Type == "headline" {
		return
	}
	m := &Message{ID: p.ID, From: p.From, To: p.To, Type: p.Type, OriginID: p.OriginID,
		StanzaIDs: p.StanzaIDs, Unreadable: u}
	if p.Carbon != NotCarbon {
		if p.From != "" && !SameBare(p.From, c.account.String()) {
			c.log.Warn("xmpp: dropping unreadable carbon", "err", ErrSpoofed, "from", p.From)
			return
		}
		if !p.Inner.Seen {
			return // whose message it was is not in the part we read
		}
		m = &Message{ID: p.Inner.ID, From: p.Inner.From, To: p.Inner.To, Type: p.Inner.Type,
			OriginID: p.Inner.OriginID, Carbon: p.Carbon, Unreadable: u}
	}
	if m.Type == "" {
		m.Type = "normal"
	}
	c.cfg.OnMessage(m)
}
