package xmpp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// XEP-0292 vCard4 over XMPP: a person's card (RFC 6351 xCard) published on
// their own PEP node urn:xmpp:vcard4, item "current". Rounds reads and
// writes four fields: the display name (fn), the job title (title, or role
// when there is no title), the unit (org's second text, the org-unit) and a
// work phone (tel, a tel: URI or text).
//
// Everything in a card is the person's own claim: Rounds never lets a card
// name replace a name the user (or the hospital's roster) chose, and the
// app decides what to do with two people claiming one name.

// NSVCard4 is the vCard4 namespace; nodeVCard4 the PEP node.
const (
	NSVCard4   = "urn:ietf:params:xml:ns:vcard-4.0"
	nodeVCard4 = "urn:xmpp:vcard4"
)

// VCard is the part of a person's vCard4 Rounds shows.
type VCard struct {
	Name  string // fn: how they want to be called ("Dr Ama Osei")
	Role  string // title (or role): "Cardiology registrar"
	Unit  string // org-unit: "Ward 7"
	Phone string // tel, without "tel:": "+44 20 7946 0001"
}

// maxVCardField bounds each field (runes); a longer one is cut there.
const maxVCardField = 120

// vcardText cleans a field read from the wire: no control or format
// characters (a bidi override could make one name read as another), spaces
// collapsed, at most maxVCardField runes.
func vcardText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > maxVCardField {
		s = string([]rune(s)[:maxVCardField])
		s = strings.TrimSpace(s)
	}
	return s
}

// ParseVCard reads a <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'>.
func ParseVCard(el *Element) (VCard, error) {
	if el == nil || el.Name.Space != NSVCard4 || el.Name.Local != "vcard" {
		return VCard{}, errors.New("xmpp: not a vCard4")
	}
	text := func(prop *Element) []string {
		if prop == nil {
			return nil
		}
		var out []string
		for _, t := range prop.ChildrenNamed(NSVCard4, "text") {
			out = append(out, vcardText(t.Text))
		}
		return out
	}
	first := func(local string) string {
		if t := text(el.Child(NSVCard4, local)); len(t) > 0 {
			return t[0]
		}
		return ""
	}
	v := VCard{Name: first("fn"), Role: first("title")}
	if v.Role == "" {
		v.Role = first("role")
	}
	if org := text(el.Child(NSVCard4, "org")); len(org) > 1 {
		v.Unit = org[1]
	} else if len(org) == 1 {
		v.Unit = org[0]
	}
	if tel := el.Child(NSVCard4, "tel"); tel != nil {
		if u := tel.ChildText(NSVCard4, "uri"); u != "" {
			v.Phone = vcardText(strings.TrimPrefix(strings.TrimSpace(u), "tel:"))
		} else if t := text(tel); len(t) > 0 {
			v.Phone = t[0]
		}
	}
	if v == (VCard{}) {
		return VCard{}, errors.New("xmpp: vCard4 has none of fn, title, role, org, tel")
	}
	return v, nil
}

// DecodeVCard parses a vCard4 document.
func DecodeVCard(doc []byte) (VCard, error) {
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return VCard{}, fmt.Errorf("xmpp: vCard4: %w", err)
	}
	return ParseVCard(el)
}

// Element encodes the card (fields cleaned as ParseVCard would).
func (v VCard) Element() *Element {
	el := NewElement(NSVCard4, "vcard")
	prop := func(local string, texts ...string) {
		p := NewElement(NSVCard4, local)
		for _, t := range texts {
			p.Append(NewElement(NSVCard4, "text").SetText(vcardText(t)))
		}
		el.Append(p)
	}
	if v.Name != "" {
		prop("fn", v.Name)
	}
	if v.Role != "" {
		prop("title", v.Role)
	}
	if v.Unit != "" {
		prop("org", "", v.Unit)
	}
	if v.Phone != "" {
		el.Append(NewElement(NSVCard4, "tel").Append(NewElement(NSVCard4, "uri").SetText("tel:" + vcardText(v.Phone))))
	}
	return el
}

// PublishVCard publishes our own card, readable by anyone who can reach
// our account (pubsub#access_model open: the hospital's staff directory).
func (c *Client) PublishVCard(ctx context.Context, v VCard) error {
	opts := dataForm(nsPublishOptions).Append(formField("pubsub#access_model", "open"))
	item := NewElement(NSPubSub, "item", "id", "current").Append(v.Element())
	ps := NewElement(NSPubSub, "pubsub").Append(
		NewElement(NSPubSub, "publish", "node", nodeVCard4).Append(item),
		NewElement(NSPubSub, "publish-options").Append(opts))
	_, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set").Append(ps))
	return err
}

// FetchVCard reads the card of the person at bare; ok is false when they
// have published none (or we may not read it).
func (c *Client) FetchVCard(ctx context.Context, bare string) (v VCard, ok bool, err error) {
	items, err := c.GetItems(ctx, BareJID(bare), nodeVCard4, "current")
	var se *StanzaError
	if errors.As(err, &se) && (se.Condition == "item-not-found" || se.Condition == "forbidden" || se.Condition == "not-authorized" || se.Condition == "service-unavailable") {
		return VCard{}, false, nil
	}
	if err != nil {
		return VCard{}, false, err
	}
	for _, it := range items {
		if v, err := ParseVCard(it.Payload); err == nil {
			return v, true, nil
		}
	}
	return VCard{}, false, nil
}

// VCardNotify is the XEP-0163 feature that asks the server to send us the
// cards of the people we follow whenever they publish a new one.
const VCardNotify = nodeVCard4 + "+notify"

// ErrNotVCardEvent: the stanza is not a notification of a vCard4 node.
var ErrNotVCardEvent = errors.New("xmpp: not a vCard4 notification")

// ParseVCardEvent reads a PEP notification of someone's card: whose card
// (the bare JID the event comes from; empty from is our own account,
// named by our own server) and what it now says. The card is still only
// its owner's claim. A full JID as sender is refused: PEP events come from
// the account itself, so a resource means a peer's client forged one.
func ParseVCardEvent(st *Element, self string) (bare string, v VCard, err error) {
	var items *Element
	for _, it := range st.Child(NSPubSubEvent, "event").ChildrenNamed(NSPubSubEvent, "items") {
		if it.Attr("node") == nodeVCard4 {
			items = it
		}
	}
	if items == nil {
		return "", VCard{}, ErrNotVCardEvent
	}
	from := st.From()
	switch {
	case from == "":
		bare = BareJID(self)
	case hasResource(from) || BareJID(from) == "":
		return "", VCard{}, fmt.Errorf("%w: card event from %q", ErrSpoofed, from)
	default:
		bare = BareJID(from)
	}
	var card *Element
	for _, item := range items.ChildrenNamed(NSPubSubEvent, "item") {
		if id := item.Attr("id"); id != "current" && id != "" {
			continue
		}
		if c := item.Child(NSVCard4, "vcard"); c != nil {
			card = c
		}
	}
	if card == nil {
		return "", VCard{}, errors.New("xmpp: vCard4 notification carries no current card")
	}
	v, err = ParseVCard(card)
	if err != nil {
		return "", VCard{}, err
	}
	return bare, v, nil
}

// handleVCardEvent delivers notifications of people's cards to OnVCard.
// Events of other nodes pass on.
func (c *Client) handleVCardEvent(st *Element) bool {
	bare, v, err := ParseVCardEvent(st, c.account.String())
	if errors.Is(err, ErrNotVCardEvent) {
		return false
	}
	if err != nil {
		c.log.Warn("xmpp: ignoring a card notification", "err", err)
		return true
	}
	if c.cfg.OnVCard != nil {
		c.cfg.OnVCard(bare, v)
	}
	return true
}

// FollowVCard asks bare's PEP service to send us their card whenever they
// publish a new one (an explicit XEP-0060 subscription: it works without a
// presence subscription, which Rounds does not manage; cards are published
// with access model open). Subscribing again is harmless.
func (c *Client) FollowVCard(ctx context.Context, bare string) error {
	return c.SubscribeNode(ctx, BareJID(bare), nodeVCard4)
}
