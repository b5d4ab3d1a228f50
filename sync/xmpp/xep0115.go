package xmpp

import (
	"crypto/sha1"
	"encoding/base64"
	"sort"
	"strings"
)

// XEP-0115 Entity Capabilities: a hash of our disco#info in every presence, so
// peers learn our features without asking each time.
const NSCaps = "http://jabber.org/protocol/caps"

// CapsVer computes the verification string of XEP-0115 §5.1 (sha-1): sorted
// identities "category/type/lang/name<", sorted features "<"-terminated.
// (Extended info forms of §5.1 step 6 are not used by us.)
func CapsVer(d DiscoInfo) string {
	ids := make([]string, 0, len(d.identities()))
	for _, id := range d.identities() {
		ids = append(ids, id.Category+"/"+id.Type+"/"+id.Lang+"/"+id.Name)
	}
	sort.Strings(ids)
	feats := append([]string(nil), d.Features...)
	sort.Strings(feats)
	var b strings.Builder
	for _, s := range ids {
		b.WriteString(s)
		b.WriteByte('<')
	}
	for _, f := range feats {
		b.WriteString(f)
		b.WriteByte('<')
	}
	sum := sha1.Sum([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// capsElement is the <c/> we put in our presence.
func (c *Client) capsElement() *Element {
	d := c.cfg.Disco
	return NewElement(NSCaps, "c", "hash", "sha-1", "node", d.CapsNode, "ver", CapsVer(d))
}
