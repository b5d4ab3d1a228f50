package xmpp

// urn:rounds:order:0 — the message is a clinical order (Joint Commission:
// orders go only to the specified contact list). Fallback prefix "[ORDER] ".
const NSOrder = "urn:rounds:order:0"

// OrderPrefix is the XEP-0428 fallback prefix of an order's body.
const OrderPrefix = "[ORDER] "

// NewOrder builds <order/>.
func NewOrder() *Element { return NewElement(NSOrder, "order") }

// urn:rounds:role:0 — the message was addressed to a role ("Cardiology on
// call"); the sender resolved it to a person at send time and says so, so the
// recipient sees why it reached them.
const NSRole = "urn:rounds:role:0"

// NewAddressed builds <addressed role/>.
func NewAddressed(role string) *Element { return NewElement(NSRole, "addressed", "role", role) }

// ParseAddressedRole returns the role a message was addressed to, or "".
func ParseAddressedRole(st *Element) string {
	r, ok := boundedAttr(st.Child(NSRole, "addressed"), "role", maxPolicyText)
	if !ok {
		return ""
	}
	return r
}

// ClinicalPrefix is the fallback prefix for an urgency level and order flag,
// and the fallback elements that describe it (for a body starting with it).
func ClinicalPrefix(level string, order bool) (string, []*Element) {
	var prefix string
	var fbs []*Element
	if p := UrgencyPrefix(level); p != "" {
		fbs = append(fbs, NewFallback(NSUrgency, 0, prefixLen(p)))
		prefix = p
	}
	if order {
		start := prefixLen(prefix)
		fbs = append(fbs, NewFallback(NSOrder, start, start+prefixLen(OrderPrefix)))
		prefix += OrderPrefix
	}
	return prefix, fbs
}
