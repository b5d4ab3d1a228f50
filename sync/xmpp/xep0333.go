package xmpp

// XEP-0333 Chat Markers: "read" in the receipt state machine. We send and read
// only "displayed" (received is covered by 0184, acknowledged is ours).
const NSMarkers = "urn:xmpp:chat-markers:0"

func parse0333(st *Element, m *Message) {
	if st.Child(NSMarkers, "markable") != nil {
		m.Markable = true
	}
	if d := st.Child(NSMarkers, "displayed"); d != nil {
		m.DisplayedFor = d.Attr("id")
	}
}

// NewDisplayed marks msg displayed. The id is the message's id for 1:1, and for
// groupchat the room's stanza-id (XEP-0333 §5.1, since 0.4), so pass roomJID
// for groupchat; it returns nil when the needed id is missing.
func NewDisplayed(msg *Message, roomJID string) *Element {
	id, to, typ := msg.ID, msg.From, msg.Type
	if msg.Type == "groupchat" {
		id, to = msg.StanzaIDBy(roomJID), BareJID(msg.From)
	}
	if id == "" || to == "" {
		return nil
	}
	if typ == "" || typ == "normal" {
		typ = "chat"
	}
	return NewElement(NSClient, "message", "to", to, "id", randomID(), "type", typ).Append(
		NewElement(NSMarkers, "displayed", "id", id),
		NewElement(nsHints, "store"))
}
