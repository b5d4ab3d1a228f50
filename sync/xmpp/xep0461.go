package xmpp

// XEP-0461 Message Replies: <reply to='author' id='…'/> says which message a
// message answers; the quoted text other clients show ("> …\n") is an
// XEP-0428 fallback for NSReply. Rounds does not draw replies; the engine
// reads them only to know which page a text acknowledgement answers.
const NSReply = "urn:xmpp:reply:0"

// Reply is a parsed <reply/>.
type Reply struct{ To, ID string }

// ParseReply reads <reply/>; nil when absent, without id, or with an id
// longer than any id Rounds accepts elsewhere.
func ParseReply(st *Element) *Reply {
	if st == nil {
		return nil
	}
	r := st.Child(NSReply, "reply")
	id, ok := boundedAttr(r, "id", maxClinicalID)
	if r == nil || id == "" || !ok {
		return nil
	}
	to, ok := boundedAttr(r, "to", maxJIDBytes)
	if !ok {
		to = ""
	}
	return &Reply{To: to, ID: id}
}
