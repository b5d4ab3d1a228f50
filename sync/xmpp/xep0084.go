package xmpp

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// XEP-0084 User Avatar: a person's picture on two PEP nodes of their own
// account. urn:xmpp:avatar:data holds the image (base64, item id = the
// SHA-1 of the bytes, in hex); urn:xmpp:avatar:metadata holds what it is
// (<info id bytes type width height/>), and is the node people follow: an
// empty <metadata/> says the picture was taken down.
//
// Everything in both nodes is the owner's claim, and the data item is only
// the owner's server's copy of it: a picture is accepted only when its
// bytes hash to the id the metadata names (FetchAvatarData), so a data
// node that does not hold what the metadata announced is refused, and
// only a small PNG or JPEG is read at all (MaxAvatarBytes, MaxAvatarSide).

const (
	NSAvatarData     = "urn:xmpp:avatar:data"
	NSAvatarMetadata = "urn:xmpp:avatar:metadata"
	// AvatarNotify is the XEP-0163 feature asking for people's new pictures.
	AvatarNotify = NSAvatarMetadata + "+notify"
)

const (
	// MaxAvatarBytes bounds a picture: far above the 96×96 pictures
	// clients publish, far below a stanza servers accept (Prosody's c2s
	// limit is 256 KiB, and base64 adds a third).
	MaxAvatarBytes = 64 << 10
	// MaxAvatarSide bounds the width and height a picture may claim (and,
	// checked when decoding, have).
	MaxAvatarSide = 1024
)

// AvatarTypes are the picture types Rounds reads (XEP-0084 requires PNG).
var AvatarTypes = map[string]bool{"image/png": true, "image/jpeg": true}

// ErrAvatar wraps every refusal of avatar metadata or data.
var ErrAvatar = errors.New("xmpp: avatar")

// ErrAvatarMismatch: the data node's bytes do not hash to the id the
// metadata gave.
var ErrAvatarMismatch = fmt.Errorf("%w: data does not match its id", ErrAvatar)

// AvatarInfo describes one picture: its id (SHA-1 of the bytes, 40 lower
// case hex digits), size in bytes, type, and claimed dimensions (0 when
// not given).
type AvatarInfo struct {
	ID            string
	Bytes         int
	Type          string
	Width, Height int
}

// AvatarMetadata is the metadata node's current item: the picture Rounds
// would show (the first <info/> of a type it reads, stored on the data
// node, not at a URL), or none (Info nil: no picture, or taken down).
type AvatarMetadata struct {
	Info *AvatarInfo
}

func avatarErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrAvatar, fmt.Sprintf(format, a...))
}

// isSHA1Hex: 40 lower case hex digits.
func isSHA1Hex(s string) bool {
	if len(s) != 2*sha1.Size {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// AvatarID is the XEP-0084 id of data: its SHA-1 in lower case hex.
func AvatarID(data []byte) string {
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}

func parseAvatarInfo(el *Element) (AvatarInfo, error) {
	in := AvatarInfo{ID: el.Attr("id"), Type: strings.ToLower(strings.TrimSpace(el.Attr("type")))}
	if !isSHA1Hex(in.ID) {
		return AvatarInfo{}, avatarErr("<info id>: not a SHA-1 in hex")
	}
	num := func(attr string, lo, hi int, required bool) (int, error) {
		v := el.Attr(attr)
		if v == "" && !required {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, avatarErr("<info %s>: %q is outside %d..%d", attr, v, lo, hi)
		}
		return n, nil
	}
	var err error
	if in.Bytes, err = num("bytes", 1, MaxAvatarBytes, true); err != nil {
		return AvatarInfo{}, err
	}
	if in.Width, err = num("width", 1, MaxAvatarSide, false); err != nil {
		return AvatarInfo{}, err
	}
	if in.Height, err = num("height", 1, MaxAvatarSide, false); err != nil {
		return AvatarInfo{}, err
	}
	return in, nil
}

// ParseAvatarMetadata reads a <metadata xmlns='urn:xmpp:avatar:metadata'>.
// Infos of types Rounds does not read, or kept at a URL, are passed over;
// metadata listing only such pictures is refused (nothing Rounds could
// show), while an empty one is no picture.
func ParseAvatarMetadata(el *Element) (AvatarMetadata, error) {
	if el == nil || el.Name.Space != NSAvatarMetadata || el.Name.Local != "metadata" {
		return AvatarMetadata{}, avatarErr("not a %s <metadata/> element", NSAvatarMetadata)
	}
	infos := el.ChildrenNamed(NSAvatarMetadata, "info")
	if len(infos) == 0 {
		return AvatarMetadata{}, nil
	}
	var first error
	for i, it := range infos {
		if i >= 16 {
			break
		}
		if it.Attr("url") != "" {
			continue
		}
		in, err := parseAvatarInfo(it)
		if err == nil && !AvatarTypes[in.Type] {
			err = avatarErr("<info type>: %q is not a picture type Rounds reads", truncateRunes(in.Type, 40))
		}
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		return AvatarMetadata{Info: &in}, nil
	}
	if first == nil {
		first = avatarErr("no <info/> stored on the data node")
	}
	return AvatarMetadata{}, first
}

// truncateRunes cuts s to n runes (for error texts).
func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// DecodeAvatarMetadata parses an avatar metadata document.
func DecodeAvatarMetadata(doc []byte) (AvatarMetadata, error) {
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return AvatarMetadata{}, fmt.Errorf("%w: bad metadata: %v", ErrAvatar, err)
	}
	return ParseAvatarMetadata(el)
}

// Element encodes the metadata.
func (m AvatarMetadata) Element() *Element {
	el := NewElement(NSAvatarMetadata, "metadata")
	if in := m.Info; in != nil {
		info := NewElement(NSAvatarMetadata, "info", "id", in.ID, "bytes", strconv.Itoa(in.Bytes), "type", in.Type)
		if in.Width > 0 {
			info.SetAttr("width", strconv.Itoa(in.Width))
		}
		if in.Height > 0 {
			info.SetAttr("height", strconv.Itoa(in.Height))
		}
		el.Append(info)
	}
	return el
}

// ParseAvatarData reads a <data xmlns='urn:xmpp:avatar:data'> and checks
// its bytes against in: the size it announced and the id (SHA-1) it names.
// The base64 text is measured before it is decoded.
func ParseAvatarData(el *Element, in AvatarInfo) ([]byte, error) {
	if el == nil || el.Name.Space != NSAvatarData || el.Name.Local != "data" {
		return nil, avatarErr("not a %s <data/> element", NSAvatarData)
	}
	text := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, el.Text)
	if len(text) > base64.StdEncoding.EncodedLen(MaxAvatarBytes) {
		return nil, avatarErr("data: more than %d bytes", MaxAvatarBytes)
	}
	data, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return nil, avatarErr("data: not base64")
	}
	if len(data) != in.Bytes {
		return nil, avatarErr("data: %d bytes, the metadata says %d", len(data), in.Bytes)
	}
	if AvatarID(data) != in.ID {
		return nil, ErrAvatarMismatch
	}
	return data, nil
}

// FetchAvatarMetadata reads bare's avatar metadata; ok is false when they
// have none we may read.
func (c *Client) FetchAvatarMetadata(ctx context.Context, bare string) (m AvatarMetadata, ok bool, err error) {
	items, err := c.GetItems(ctx, BareJID(bare), NSAvatarMetadata)
	if pepAbsent(err) {
		return AvatarMetadata{}, false, nil
	}
	if err != nil {
		return AvatarMetadata{}, false, err
	}
	if len(items) == 0 {
		return AvatarMetadata{}, false, nil
	}
	// PEP nodes keep one item; should a server keep more, the last listed
	// is the newest (XEP-0060 §6.5.7 leaves the order to the service).
	m, err = ParseAvatarMetadata(items[len(items)-1].Payload)
	if err != nil {
		return AvatarMetadata{}, false, err
	}
	return m, true, nil
}

// FetchAvatarData reads the picture in names from bare's data node and
// returns its bytes only when they are what in announced.
func (c *Client) FetchAvatarData(ctx context.Context, bare string, in AvatarInfo) ([]byte, error) {
	items, err := c.GetItems(ctx, BareJID(bare), NSAvatarData, in.ID)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.ID == in.ID {
			return ParseAvatarData(it.Payload, in)
		}
	}
	return nil, avatarErr("data node has no item %s", in.ID)
}

// pepAbsent: the error says the node is not there for us (none, or not
// readable by us), which is "no picture", not a failure.
func pepAbsent(err error) bool {
	var se *StanzaError
	return errors.As(err, &se) && (se.Condition == "item-not-found" || se.Condition == "forbidden" || se.Condition == "not-authorized" || se.Condition == "service-unavailable")
}

// PublishAvatar publishes our picture (data first, then the metadata that
// points at it, as XEP-0084 §4.1 orders), readable by anyone who can reach
// our account, and returns its id. typ must be one of AvatarTypes.
func (c *Client) PublishAvatar(ctx context.Context, data []byte, typ string, width, height int) (string, error) {
	if len(data) == 0 || len(data) > MaxAvatarBytes || !AvatarTypes[typ] {
		return "", avatarErr("refusing to publish %d bytes of %q", len(data), typ)
	}
	id := AvatarID(data)
	if err := c.publishOpen(ctx, NSAvatarData, id, NewElement(NSAvatarData, "data").SetText(base64.StdEncoding.EncodeToString(data))); err != nil {
		return "", err
	}
	meta := AvatarMetadata{Info: &AvatarInfo{ID: id, Bytes: len(data), Type: typ, Width: width, Height: height}}
	if err := c.publishOpen(ctx, NSAvatarMetadata, id, meta.Element()); err != nil {
		return "", err
	}
	return id, nil
}

// TakeDownAvatar publishes empty metadata (XEP-0084 §4.6): followers stop
// showing our picture.
func (c *Client) TakeDownAvatar(ctx context.Context) error {
	return c.publishOpen(ctx, NSAvatarMetadata, "none", AvatarMetadata{}.Element())
}

// publishOpen publishes payload as item id of our PEP node, readable by
// anyone who can reach our account.
func (c *Client) publishOpen(ctx context.Context, node, id string, payload *Element) error {
	opts := NewElement(NSPubSub, "publish-options").Append(
		dataForm(nsPublishOptions).Append(formField("pubsub#access_model", "open")))
	ps := NewElement(NSPubSub, "pubsub").Append(
		NewElement(NSPubSub, "publish", "node", node).Append(NewElement(NSPubSub, "item", "id", id).Append(payload)),
		opts)
	_, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "set").Append(ps))
	return err
}

// ErrNotAvatarEvent: the stanza is not a notification of avatar metadata.
var ErrNotAvatarEvent = errors.New("xmpp: not an avatar notification")

// ParseAvatarEvent reads a PEP notification of someone's avatar metadata:
// whose (the bare JID it comes from; empty from is our own account) and
// what it now says. As with cards, a full JID as sender is refused.
func ParseAvatarEvent(st *Element, self string) (bare string, m AvatarMetadata, err error) {
	var items *Element
	for _, it := range st.Child(NSPubSubEvent, "event").ChildrenNamed(NSPubSubEvent, "items") {
		if it.Attr("node") == NSAvatarMetadata {
			items = it
		}
	}
	if items == nil {
		return "", AvatarMetadata{}, ErrNotAvatarEvent
	}
	from := st.From()
	switch {
	case from == "":
		bare = BareJID(self)
	case hasResource(from) || BareJID(from) == "":
		return "", AvatarMetadata{}, fmt.Errorf("%w: avatar event from %q", ErrSpoofed, from)
	default:
		bare = BareJID(from)
	}
	list := items.ChildrenNamed(NSPubSubEvent, "item")
	if len(list) == 0 {
		return "", AvatarMetadata{}, avatarErr("notification carries no item")
	}
	m, err = ParseAvatarMetadata(list[len(list)-1].Child(NSAvatarMetadata, "metadata"))
	if err != nil {
		return "", AvatarMetadata{}, err
	}
	return bare, m, nil
}

// handleAvatarEvent delivers notifications of people's avatars to
// OnAvatar. Events of other nodes pass on.
func (c *Client) handleAvatarEvent(st *Element) bool {
	bare, m, err := ParseAvatarEvent(st, c.account.String())
	if errors.Is(err, ErrNotAvatarEvent) {
		return false
	}
	if err != nil {
		c.log.Warn("xmpp: ignoring an avatar notification", "err", err)
		return true
	}
	if c.cfg.OnAvatar != nil {
		c.cfg.OnAvatar(bare, m)
	}
	return true
}

// FollowAvatar asks bare's PEP service to notify us of their new pictures
// (as FollowVCard does for cards).
func (c *Client) FollowAvatar(ctx context.Context, bare string) error {
	return c.SubscribeNode(ctx, BareJID(bare), NSAvatarMetadata)
}
