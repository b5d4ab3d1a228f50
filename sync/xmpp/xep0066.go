package xmpp

// XEP-0066 Out of Band Data: <x xmlns='jabber:x:oob'><url/></x> on a message
// marks its body as a link to a file, so clients show it as an attachment
// (Conversations, Dino, Monal do for aesgcm:// URLs) rather than as text.
const NSOOB = "jabber:x:oob"

// OOBElement builds the out-of-band element for url (desc optional).
func OOBElement(url, desc string) *Element {
	x := NewElement(NSOOB, "x").Append(NewElement(NSOOB, "url").SetText(url))
	if desc != "" {
		x.Append(NewElement(NSOOB, "desc").SetText(desc))
	}
	return x
}

// OOBURLs returns the URLs of every out-of-band element on a message stanza.
func OOBURLs(msg *Element) []string {
	var out []string
	for _, x := range msg.ChildrenNamed(NSOOB, "x") {
		if u := x.ChildText(NSOOB, "url"); u != "" {
			out = append(out, u)
		}
	}
	return out
}
