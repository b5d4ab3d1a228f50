package xmpp

// XEP-0308 Last Message Correction: <replace id/> quotes the origin-id of the
// message being corrected; the body is the new text. Rounds keeps the prior
// text in the message's history (securestore.Correct).
const NSCorrect = "urn:xmpp:message-correct:0"

// NewReplace builds <replace id/>.
func NewReplace(id string) *Element { return NewElement(NSCorrect, "replace", "id", id) }

// ParseReplace returns the id a message corrects, or "".
func ParseReplace(st *Element) string { return st.Child(NSCorrect, "replace").Attr("id") }
