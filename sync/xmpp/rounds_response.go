package xmpp

// urn:rounds:response:0 — a quick response to an urgent message: acknowledge,
// decline, call me, five minutes, or free text. It rides in an ordinary chat
// or groupchat message whose body is the human text, so other clients show
// "✓ Acknowledged". Id quotes the original: its origin-id in a 1:1 chat, its
// stanza-id in a room (as XEP-0333 markers do).
const NSResponse = "urn:rounds:response:0"

// Response kinds on the wire.
const (
	ResponseAck         = "ack"
	ResponseDecline     = "decline"
	ResponseCallMe      = "call-me"
	ResponseFiveMinutes = "five-minutes"
	ResponseText        = "text"
)

// ValidResponseKind reports whether k is a kind this version knows.
func ValidResponseKind(k string) bool {
	switch k {
	case ResponseAck, ResponseDecline, ResponseCallMe, ResponseFiveMinutes, ResponseText:
		return true
	}
	return false
}

// Response is a parsed <response/>.
type Response struct{ ID, Kind string }

// NewResponse builds <response/>.
func NewResponse(id, kind string) *Element {
	return NewElement(NSResponse, "response", "id", id, "kind", kind)
}

// ParseResponse reads <response/>. A response without id or with an unknown
// kind is nil: it cannot be applied, and the body still shows.
func ParseResponse(st *Element) *Response {
	r := st.Child(NSResponse, "response")
	if id, ok := boundedAttr(r, "id", maxClinicalID); r == nil || id == "" || !ok || !ValidResponseKind(r.Attr("kind")) {
		return nil
	}
	return &Response{ID: r.Attr("id"), Kind: r.Attr("kind")}
}

// ResponseFallbackText is the body other clients show for a kind ("" for
// text: the body is the text).
func ResponseFallbackText(kind string) string {
	switch kind {
	case ResponseAck:
		return "✓ Acknowledged"
	case ResponseDecline:
		return "✗ Declined"
	case ResponseCallMe:
		return "☎ Call me"
	case ResponseFiveMinutes:
		return "⏱ In 5 minutes"
	}
	return ""
}
