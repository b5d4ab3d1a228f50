package xmpp

import (
	"context"
	"sort"
)

// XEP-0030 Service Discovery: we answer disco#info about ourselves (peers and
// the server learn what we support), and query others.
const (
	NSDiscoInfo  = "http://jabber.org/protocol/disco#info"
	NSDiscoItems = "http://jabber.org/protocol/disco#items"
)

// Identity is a disco identity (category/type/lang/name).
type Identity struct {
	Category, Type, Lang, Name string
}

// DiscoInfo is what an entity says about itself.
type DiscoInfo struct {
	Identity   Identity // ours; peers' answers may hold more (Identities)
	Identities []Identity
	Features   []string
	// CapsNode is our XEP-0115 node URI.
	CapsNode string
}

// DefaultDiscoInfo lists what this package implements on the receiving side.
func DefaultDiscoInfo() DiscoInfo {
	return DiscoInfo{
		Identity: Identity{Category: "client", Type: "phone", Name: "Rounds"},
		Features: []string{
			NSDiscoInfo, NSCaps, NSPing, NSReceipts, NSMarkers, NSSID, NSCarbons, NSDelay,
		},
		CapsNode: "https://rounds.invalid/caps",
	}
}

func (d DiscoInfo) identities() []Identity {
	if len(d.Identities) > 0 {
		return d.Identities
	}
	return []Identity{d.Identity}
}

func (d DiscoInfo) element(node string) *Element {
	q := NewElement(NSDiscoInfo, "query", "node", node)
	for _, id := range d.identities() {
		e := NewElement(NSDiscoInfo, "identity", "category", id.Category, "type", id.Type, "name", id.Name)
		if id.Lang != "" {
			e.Attrs = append(e.Attrs, xmlLang(id.Lang))
		}
		q.Append(e)
	}
	feats := append([]string(nil), d.Features...)
	sort.Strings(feats)
	for _, f := range feats {
		q.Append(NewElement(NSDiscoInfo, "feature", "var", f))
	}
	return q
}

// answerDiscoInfo answers disco#info on us, also for our caps node#ver.
func (c *Client) answerDiscoInfo(iq *Element) (*Element, error) {
	node := iq.Children[0].Attr("node")
	d := c.cfg.Disco
	if node != "" && node != d.CapsNode+"#"+CapsVer(d) {
		return nil, &StanzaError{Type: "cancel", Condition: "item-not-found"}
	}
	return d.element(node), nil
}

// ParseDiscoInfo reads a disco#info result payload.
func ParseDiscoInfo(q *Element) DiscoInfo {
	var d DiscoInfo
	for _, c := range q.Children {
		if c.Name.Space != NSDiscoInfo {
			continue
		}
		switch c.Name.Local {
		case "identity":
			id := Identity{Category: c.Attr("category"), Type: c.Attr("type"), Name: c.Attr("name")}
			for _, a := range c.Attrs {
				if a.Name.Space == nsXML && a.Name.Local == "lang" {
					id.Lang = a.Value
				}
			}
			d.Identities = append(d.Identities, id)
		case "feature":
			d.Features = append(d.Features, c.Attr("var"))
		}
	}
	if len(d.Identities) > 0 {
		d.Identity = d.Identities[0]
	}
	return d
}

// Has reports whether feature is listed.
func (d DiscoInfo) Has(feature string) bool { return contains(d.Features, feature) }

// QueryDiscoInfo asks jid what it is and what it supports. An error answer
// comes back as *StanzaError (item-not-found: no such entity).
func (c *Client) QueryDiscoInfo(ctx context.Context, jid string) (DiscoInfo, error) {
	q, err := c.discoInfoOf(ctx, jid)
	if err != nil {
		return DiscoInfo{}, err
	}
	return ParseDiscoInfo(q), nil
}

// HasIdentity reports whether one of the identities is category/typ.
func (d DiscoInfo) HasIdentity(category, typ string) bool {
	for _, id := range d.identities() {
		if id.Category == category && (typ == "" || id.Type == typ) {
			return true
		}
	}
	return false
}
