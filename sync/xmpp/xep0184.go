package xmpp

// XEP-0184 Message Delivery Receipts: "delivered" in the receipt state machine.
const NSReceipts = "urn:xmpp:receipts"

func parse0184(st *Element, m *Message) {
	if st.Child(NSReceipts, "request") != nil {
		m.ReceiptRequested = true
	}
	if r := st.Child(NSReceipts, "received"); r != nil {
		m.ReceiptFor = r.Attr("id")
	}
}

// NewReceipt acknowledges delivery of msg (XEP-0184 §5.2: the receipt names the
// message's id; never answer a receipt request in an error or groupchat message).
func NewReceipt(msg *Message) *Element {
	if msg.ID == "" || msg.Type == "error" || msg.Type == "groupchat" {
		return nil
	}
	return NewElement(NSClient, "message", "to", msg.From, "id", randomID(), "type", msg.Type).Append(
		NewElement(NSReceipts, "received", "id", msg.ID),
		NewElement(nsHints, "store"))
}

// XEP-0334 hint: archive receipts and markers so other devices and catch-up see them.
const nsHints = "urn:xmpp:hints"
