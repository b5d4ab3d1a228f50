package xmpp

// XEP-0424 Message Retraction (v1 namespace): the sender recalls a message.
// The <retract/> quotes the original's origin-id (1:1) or the stanza-id the
// room gave it; a fallback body and a store hint (XEP-0334) make servers
// archive it and store it offline, so a device that was off learns of it.
const (
	NSRetract = "urn:xmpp:message-retract:1"
	NSHints   = "urn:xmpp:hints"
)

// RetractFallback is the body other clients show.
const RetractFallback = "This person attempted to retract a previous message, but it's unsupported by your client."

// NewRetract builds <retract id/>.
func NewRetract(id string) *Element { return NewElement(NSRetract, "retract", "id", id) }

// ParseRetract returns the id a message retracts, or "".
func ParseRetract(st *Element) string { return st.Child(NSRetract, "retract").Attr("id") }

// NewStoreHint builds the XEP-0334 <store/> hint.
func NewStoreHint() *Element { return NewElement(NSHints, "store") }
