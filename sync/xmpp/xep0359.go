package xmpp

// XEP-0359 Unique and Stable Stanza IDs: the keys the sync engine dedupes on.
const NSSID = "urn:xmpp:sid:0"

// StanzaID is an archive-assigned id; By names the archive (our bare JID for
// our own archive, the room JID for a MUC). An id whose By is not an entity we
// trust must be ignored: anyone can put a stanza-id in a message they send.
type StanzaID struct {
	ID, By string
}

func parse0359(st *Element, m *Message) {
	if o := st.Child(NSSID, "origin-id"); o != nil {
		m.OriginID = o.Attr("id")
	}
	for _, s := range st.ChildrenNamed(NSSID, "stanza-id") {
		if s.Attr("id") != "" && s.Attr("by") != "" {
			m.StanzaIDs = append(m.StanzaIDs, StanzaID{ID: s.Attr("id"), By: s.Attr("by")})
		}
	}
}

// StanzaIDBy returns the stanza-id assigned by the archive by (a bare JID), or "".
func (m *Message) StanzaIDBy(by string) string {
	for _, s := range m.StanzaIDs {
		if SameBare(s.By, by) {
			return s.ID
		}
	}
	return ""
}
