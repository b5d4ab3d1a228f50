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
// Of several by the same archive it is the last: the archive appends its
// own after what the sender put in. XEP-0359 has the archive strip a
// sender's, but Prosody 0.12 strips them only from copies it does not
// archive; an archived message reaches the recipient with the sender's
// forged <stanza-id by=recipient> first and the server's last
// (TestForgedStanzaIDIsNotTheOnceKey in sync).
func (m *Message) StanzaIDBy(by string) string {
	id := ""
	for _, s := range m.StanzaIDs {
		if SameBare(s.By, by) {
			id = s.ID
		}
	}
	return id
}
