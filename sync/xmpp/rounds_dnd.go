package xmpp

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// urn:rounds:dnd:0 — a user's do-not-disturb state, shared by their own
// devices: item "current" of a private PEP node (XEP-0223, the node options
// XEP-0490 uses: whitelist, persistent) of the same name on the user's own
// account. Only the account's own resources may read it or are notified.
//
//	<dnd xmlns='urn:rounds:dnd:0' since='2026-12-07T09:00:00Z'
//	     until='2026-12-07T14:00:00Z' cover='lee@hospital.org'
//	     cover-role='' off-shift='false'>
//	  <reply>In theatre until 14:00 — urgent: page Dr Osei</reply>
//	</dnd>
//
// An empty <dnd/> (no since) says do-not-disturb is off. changed (on or off)
// is when the user last changed it, by the device's clock: a device that
// changed it offline publishes its state at the next sign-in unless the node
// holds a later change.
const NSDND = "urn:rounds:dnd:0"

// DND is a parsed <dnd/>. Since zero means off.
type DND struct {
	Since, Until time.Time // Until zero: until turned off
	Reply        string    // the auto-reply text, as the user typed it
	Cover        string    // bare JID of the colleague who covers, or ""
	CoverRole    string    // an on-call role who covers, resolved when used
	OffShift     bool      // "off shift" rather than "do not disturb"
	Changed      time.Time // when the user last changed it (zero: not said)
}

// Bounds of <dnd/>: the reply is a sentence or two, a role a name.
const (
	MaxDNDReplyRunes = 500
	maxDNDRoleRunes  = 100
)

// On says whether d is an active state at now.
func (d DND) On(now time.Time) bool {
	return !d.Since.IsZero() && (d.Until.IsZero() || now.Before(d.Until))
}

// Element encodes d.
func (d DND) Element() *Element {
	el := NewElement(NSDND, "dnd")
	if !d.Changed.IsZero() {
		el.SetAttr("changed", d.Changed.UTC().Format(time.RFC3339Nano))
	}
	if d.Since.IsZero() {
		return el
	}
	el.SetAttr("since", d.Since.UTC().Format(time.RFC3339Nano))
	if !d.Until.IsZero() {
		el.SetAttr("until", d.Until.UTC().Format(time.RFC3339Nano))
	}
	if d.Cover != "" {
		el.SetAttr("cover", d.Cover)
	}
	if d.CoverRole != "" {
		el.SetAttr("cover-role", d.CoverRole)
	}
	if d.OffShift {
		el.SetAttr("off-shift", "true")
	}
	if d.Reply != "" {
		el.Append(NewElement(NSDND, "reply").SetText(d.Reply))
	}
	return el
}

// ParseDND reads a <dnd xmlns='urn:rounds:dnd:0'/>. A value out of bounds
// is an error naming it, and nothing of the element applies.
func ParseDND(el *Element) (DND, error) {
	if el == nil || el.Name.Space != NSDND || el.Name.Local != "dnd" {
		return DND{}, fmt.Errorf("xmpp: not a %s <dnd/> element", NSDND)
	}
	var d DND
	t := func(attr string) (time.Time, error) {
		s := el.Attr(attr)
		if s == "" {
			return time.Time{}, nil
		}
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, &PolicyError{"dnd", attr, fmt.Sprintf("%s is not an RFC 3339 time", shown(s))}
		}
		return v.UTC(), nil
	}
	var err error
	if d.Changed, err = t("changed"); err != nil {
		return DND{}, err
	}
	if d.Since, err = t("since"); err != nil {
		return DND{}, err
	}
	if d.Since.IsZero() {
		return DND{Changed: d.Changed}, nil // off
	}
	if d.Until, err = t("until"); err != nil {
		return DND{}, err
	}
	if !d.Until.IsZero() && !d.Until.After(d.Since) {
		return DND{}, &PolicyError{"dnd", "until", "is not after since"}
	}
	if d.Cover, err = bareJIDAttr(el, "cover", false); err != nil {
		return DND{}, err
	}
	if d.CoverRole, err = dndText(el.Attr("cover-role"), "cover-role", maxDNDRoleRunes, false); err != nil {
		return DND{}, err
	}
	switch el.Attr("off-shift") {
	case "", "false", "0":
	case "true", "1":
		d.OffShift = true
	default:
		return DND{}, &PolicyError{"dnd", "off-shift", fmt.Sprintf("%s is not true or false", shown(el.Attr("off-shift")))}
	}
	if d.Reply, err = dndText(el.ChildText(NSDND, "reply"), "reply", MaxDNDReplyRunes, true); err != nil {
		return DND{}, err
	}
	return d, nil
}

// dndText checks a text of <dnd/>: bounded, valid UTF-8, no control
// characters (a reply may have line breaks).
func dndText(s, what string, max int, lines bool) (string, error) {
	switch {
	case !utf8.ValidString(s):
		return "", &PolicyError{"dnd", what, "is not UTF-8"}
	case utf8.RuneCountInString(s) > max:
		return "", &PolicyError{"dnd", what, fmt.Sprintf("is longer than %d characters", max)}
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && !(lines && r == '\n') }) >= 0:
		return "", &PolicyError{"dnd", what, "holds a control character"}
	}
	return s, nil
}

// DecodeDND parses a <dnd/> from XML text (fixtures, fuzzing).
func DecodeDND(doc []byte) (DND, error) {
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return DND{}, fmt.Errorf("xmpp: dnd: %w", err)
	}
	return ParseDND(el)
}

// DNDItemID is the item of the DND node that holds the state in force.
const DNDItemID = "current"

// PublishDND publishes d as our own devices' do-not-disturb state.
func (c *Client) PublishDND(ctx context.Context, d DND) error {
	return c.publishPrivate(ctx, NSDND, DNDItemID, d.Element())
}

// FetchDND reads our do-not-disturb state from the private node; a node
// that was never published is the zero DND (off), nil.
func (c *Client) FetchDND(ctx context.Context) (DND, error) {
	items, err := c.GetItems(ctx, c.account.String(), NSDND, DNDItemID)
	if se, ok := err.(*StanzaError); ok && se.Condition == "item-not-found" {
		return DND{}, nil
	}
	if err != nil {
		return DND{}, err
	}
	for _, it := range items {
		if it.ID == DNDItemID && it.Payload != nil {
			return ParseDND(it.Payload)
		}
	}
	return DND{}, nil
}

// handleDNDEvent delivers notifications of our own DND node. Only our own
// account may change it (anyone else could silence every device): an event
// from anyone else is dropped. Events of other nodes pass on.
func (c *Client) handleDNDEvent(st *Element) bool {
	var item *Element
	for _, it := range st.Child(NSPubSubEvent, "event").ChildrenNamed(NSPubSubEvent, "items") {
		if it.Attr("node") == NSDND {
			for _, x := range it.ChildrenNamed(NSPubSubEvent, "item") {
				if x.Attr("id") == DNDItemID {
					item = x
				}
			}
			if item == nil {
				return true // a retraction or another item: nothing to report
			}
		}
	}
	if item == nil {
		return false
	}
	if from := st.From(); from != "" && (BareJID(from) != c.account.String() || hasResource(from)) {
		c.log.Warn("xmpp: dropping do-not-disturb event", "err", ErrSpoofed, "from", from)
		return true
	}
	var payload *Element
	for _, ch := range item.Children {
		if ch.Name.Space == NSDND {
			payload = ch
		}
	}
	d, err := ParseDND(payload)
	if err != nil {
		c.log.Warn("xmpp: ignoring a do-not-disturb item that does not parse", "err", err)
		return true
	}
	if c.cfg.OnDND != nil {
		c.cfg.OnDND(d)
	}
	return true
}
