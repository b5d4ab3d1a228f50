package xmpp

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// XEP-0402 PEP Native Bookmarks: the rooms an account is in, one item per
// room (item id = the room's bare JID) of a private PEP node on the
// account, so every device of the account joins the same rooms. The node
// is private (access model whitelist: only the account itself reads it)
// with the XEP-0223 options publishPrivate sets; devices that announce
// urn:xmpp:bookmarks:1+notify hear each change.
//
//	<conference xmlns='urn:xmpp:bookmarks:1' name='ICU team' autojoin='true'>
//	  <nick>lee</nick>
//	</conference>
const NSBookmarks = "urn:xmpp:bookmarks:1"

// BookmarksNotify is the caps feature that asks the server for bookmark
// notifications (XEP-0163 §4).
const BookmarksNotify = NSBookmarks + "+notify"

// Bookmark is one room of the account's list.
type Bookmark struct {
	Room     string // bare room JID (the item id)
	Name     string // the room's name as the user keeps it, or ""
	Nick     string // the nick to join under, or ""
	Autojoin bool   // join at sign-in on every device
}

// Bounds of what a bookmark may carry.
const (
	maxBookmarkNameRunes = 200
	maxBookmarkNickRunes = 100
)

// Element encodes b's payload (without the item).
func (b Bookmark) Element() *Element {
	el := NewElement(NSBookmarks, "conference")
	if b.Name != "" {
		el.SetAttr("name", b.Name)
	}
	if b.Autojoin {
		el.SetAttr("autojoin", "true")
	}
	if b.Nick != "" {
		el.Append(NewElement(NSBookmarks, "nick").SetText(b.Nick))
	}
	return el
}

// ParseBookmark reads the item id and payload of one bookmark. A room id
// that is not a bare JID with a local part, or a payload that is not a
// <conference/>, is an error; a name or nick out of bounds is dropped.
func ParseBookmark(id string, payload *Element) (Bookmark, error) {
	r, err := ParseJID(id)
	if err != nil || r.Local == "" || r.Resource != "" {
		return Bookmark{}, fmt.Errorf("%w: bookmark id %s is not a room JID", ErrProtocol, shown(id))
	}
	if payload == nil || payload.Name.Space != NSBookmarks || payload.Name.Local != "conference" {
		return Bookmark{}, fmt.Errorf("%w: bookmark %s has no conference", ErrProtocol, r)
	}
	b := Bookmark{Room: r.String()}
	switch payload.Attr("autojoin") {
	case "true", "1":
		b.Autojoin = true
	}
	b.Name = boundedLine(payload.Attr("name"), maxBookmarkNameRunes)
	nick := boundedLine(payload.ChildText(NSBookmarks, "nick"), maxBookmarkNickRunes)
	if nick != "" {
		if _, err := ParseJID(r.String() + "/" + nick); err == nil {
			b.Nick = nick
		}
	}
	return b, nil
}

// boundedLine is s trimmed if it is valid UTF-8, at most max runes and
// without control characters, else "".
func boundedLine(s string, max int) string {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return ""
	}
	return s
}

// PublishBookmark adds or replaces a room in our bookmarks.
func (c *Client) PublishBookmark(ctx context.Context, b Bookmark) error {
	r, err := ParseJID(b.Room)
	if err != nil || r.Local == "" || r.Resource != "" {
		return fmt.Errorf("xmpp: bookmark room %q: want a bare room JID", b.Room)
	}
	return c.publishPrivate(ctx, NSBookmarks, r.String(), b.Element())
}

// RetractBookmark removes a room from our bookmarks; our other devices are
// notified (notify='true', XEP-0402 §3.3).
func (c *Client) RetractBookmark(ctx context.Context, room string) error {
	bare := BareJID(room)
	if bare == "" {
		return fmt.Errorf("xmpp: bookmark room %q", room)
	}
	_, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set").Append(
		NewElement(NSPubSub, "pubsub").Append(
			NewElement(NSPubSub, "retract", "node", NSBookmarks, "notify", "true").Append(
				NewElement(NSPubSub, "item", "id", bare)))))
	if se, ok := err.(*StanzaError); ok && se.Condition == "item-not-found" {
		return nil // not bookmarked: nothing to remove
	}
	return err
}

// FetchBookmarks reads all our bookmarks; an account that never published
// any has none. Items that do not parse are skipped (logged without
// content).
func (c *Client) FetchBookmarks(ctx context.Context) ([]Bookmark, error) {
	items, err := c.GetItems(ctx, c.account.String(), NSBookmarks)
	if se, ok := err.(*StanzaError); ok && se.Condition == "item-not-found" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Bookmark
	for _, it := range items {
		b, err := ParseBookmark(it.ID, it.Payload)
		if err != nil {
			c.log.Info("xmpp: skipping a bookmark that does not parse", "err", err)
			continue
		}
		out = append(out, b)
	}
	return out, nil
}

// handleBookmarksEvent delivers notifications of our own bookmarks node.
// Only our own account may change them (anyone else could make every
// device join a room of theirs): an event from anyone else is dropped.
// Events of other nodes pass on.
func (c *Client) handleBookmarksEvent(st *Element) bool {
	var items []*Element
	for _, it := range st.Child(NSPubSubEvent, "event").ChildrenNamed(NSPubSubEvent, "items") {
		if it.Attr("node") == NSBookmarks {
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return false
	}
	if from := st.From(); from != "" && (BareJID(from) != c.account.String() || hasResource(from)) {
		c.log.Warn("xmpp: dropping bookmarks event", "err", ErrSpoofed, "from", from)
		return true
	}
	var set []Bookmark
	var gone []string
	for _, it := range items {
		for _, item := range it.ChildrenNamed(NSPubSubEvent, "item") {
			var payload *Element
			if len(item.Children) > 0 {
				payload = item.Children[0]
			}
			b, err := ParseBookmark(item.Attr("id"), payload)
			if err != nil {
				c.log.Info("xmpp: ignoring a bookmark event that does not parse", "err", err)
				continue
			}
			set = append(set, b)
		}
		for _, r := range it.ChildrenNamed(NSPubSubEvent, "retract") {
			if bare := BareJID(r.Attr("id")); bare != "" {
				gone = append(gone, bare)
			}
		}
	}
	if c.cfg.OnBookmarks != nil && (len(set) > 0 || len(gone) > 0) {
		c.cfg.OnBookmarks(set, gone)
	}
	return true
}
