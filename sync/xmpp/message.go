package xmpp

// RFC 6121 §5 messages, with the extensions this package understands parsed
// into fields, and the stanza itself kept for the rest.

// CarbonDirection says whether a message reached us as an XEP-0280 carbon.
type CarbonDirection int

const (
	NotCarbon      CarbonDirection = iota
	CarbonReceived                 // someone sent it to another of our devices
	CarbonSent                     // another of our devices sent it
)

// Message is a parsed <message/>.
type Message struct {
	ID, From, To, Type    string
	Body, Subject, Thread string
	// OriginID is the sender's XEP-0359 origin-id; StanzaIDs the ids assigned
	// by archives (check By before trusting one: only our server's or the room's).
	OriginID  string
	StanzaIDs []StanzaID
	// OccupantID is the XEP-0421 id a room put on a groupchat message, and
	// RealJID the real JID a non-anonymous room's archive names as its
	// author (XEP-0313 §5.1.2, muc#user <item jid/>): the room's claims.
	OccupantID, RealJID string
	// Delays are the XEP-0203 delayed-delivery stamps, in document order
	// (anyone on the path may add one; the sender too). Each names who
	// stamped it in From: check it before trusting the time.
	Delays []Delay
	// XEP-0184: the sender wants a receipt; ReceiptFor is a receipt for that id.
	ReceiptRequested bool
	ReceiptFor       string
	// XEP-0333: Markable asks for markers; DisplayedFor is a displayed marker.
	Markable     bool
	DisplayedFor string
	// Carbon is set for XEP-0280 carbons validated as coming from our account.
	Carbon CarbonDirection
	// Error is set for type="error".
	Error *StanzaError
	// Rounds clinical payloads and the XEPs they lean on (nil/empty when
	// absent): urgency with its SHIM headers, XEP-0428 fallbacks, order, role,
	// response, escalation, wipe, XEP-0424 retraction, XEP-0308 correction,
	// and an XEP-0060 event notification.
	Urgency    *Urgency
	Headers    map[string]string
	Fallbacks  []Fallback
	Order      bool
	Role       string
	Response   *Response
	Escalation *Escalation
	// Plan is a ladder handed to the escalation service (PlanErr: it was
	// there and malformed); Held the service's confirmation (an origin-id).
	Plan      *EscalationPlan
	PlanErr   error
	Held      string
	Wipe      *Wipe
	RetractID string
	ReplaceID string
	PubSub    *PubSubEvent
	// Reactions is an XEP-0444 reaction set (nil when absent or malformed:
	// a malformed one is dropped, never half-read).
	Reactions *Reactions
	// Patient is the sender's urn:rounds:patient:0 tag (nil when absent or
	// malformed: PatientErr says why, without the values).
	Patient    *Patient
	PatientErr error
	// SBAR is the sender's urn:rounds:sbar:0 structure (nil when absent or
	// malformed).
	SBAR *SBAR
	// Stanza is the message element (the inner one for carbons and MAM results),
	// with Raw bytes, for extensions this package does not parse.
	Stanza *Element
	// Unreadable is set for a message the client could not decode (too large,
	// too deep, malformed): then only ID, From, To, Type, OriginID, StanzaIDs
	// and Carbon are known, read from its first bytes, and Stanza is nil.
	Unreadable *Unreadable
}

// ParseMessage reads the fields of a message element. It does not unwrap
// carbons or MAM results (that needs the account to validate the sender).
func ParseMessage(st *Element) *Message {
	m := &Message{
		ID: st.ID(), From: st.From(), To: st.To(), Type: st.Type(), Stanza: st,
		Body:    st.ChildText(NSClient, "body"),
		Subject: st.ChildText(NSClient, "subject"),
		Thread:  st.ChildText(NSClient, "thread"),
	}
	if m.Type == "" {
		m.Type = "normal"
	}
	if m.Type == "error" {
		m.Error = ParseStanzaError(st)
	}
	parse0359(st, m)
	if m.Type == "groupchat" {
		m.OccupantID = OccupantID(st)
		m.RealJID = messageRealJID(st)
	}
	m.Delays = ParseDelays(st)
	parse0184(st, m)
	parse0333(st, m)
	parseClinical(st, m)
	return m
}

// NewChat builds a chat message with a fresh id that doubles as XEP-0359
// origin-id (we set one on every message, so resends dedupe), a receipt request
// (0184) and markable (0333).
func NewChat(to, body string) *Element {
	id := randomID()
	msg := NewElement(NSClient, "message", "type", "chat", "to", to, "id", id)
	msg.Append(NewElement(NSClient, "body").SetText(body))
	msg.Append(NewElement(NSReceipts, "request"))
	msg.Append(NewElement(NSMarkers, "markable"))
	msg.Append(NewElement(NSSID, "origin-id", "id", id))
	return msg
}

// deliverMessage unwraps a carbon (after checking it came from our account),
// parses and hands the message to OnMessage. It runs on the read loop.
func (c *Client) deliverMessage(st *Element) {
	inner, dir, err := c.unwrapCarbon(st)
	if err != nil {
		c.log.Warn("xmpp: dropping message", "err", err)
		return
	}
	if c.cfg.OnMessage == nil {
		return
	}
	m := ParseMessage(inner)
	m.Carbon = dir
	c.cfg.OnMessage(m)
}

// parseClinical fills the Rounds and related fields. Most messages carry none
// of them; the namespace check keeps that case to one pass over the children.
func parseClinical(st *Element, m *Message) {
	for _, c := range st.Children {
		switch c.Name.Space {
		case NSUrgency:
			m.Urgency = ParseUrgency(st)
		case NSSHIM:
			m.Headers = ParseHeaders(st)
		case NSReactions:
			m.Reactions, _ = ReadReactions(st)
		case NSPatient:
			m.Patient, m.PatientErr = ReadPatient(st)
		case NSSBAR:
			m.SBAR, _ = ReadSBAR(st)
		case NSFallback:
			if m.Fallbacks == nil {
				m.Fallbacks = ParseFallbacks(st)
			}
		case NSOrder:
			m.Order = true
		case NSRole:
			m.Role = ParseAddressedRole(st)
		case NSResponse:
			m.Response = ParseResponse(st)
		case NSEscalation:
			m.Escalation = ParseEscalation(st)
			m.Plan, m.PlanErr = ParseEscalationPlan(st)
			m.Held = ParseHeld(st)
		case NSWipe:
			m.Wipe = ParseWipe(st)
		case NSRetract:
			m.RetractID = ParseRetract(st)
		case NSCorrect:
			m.ReplaceID = ParseReplace(st)
		case NSPubSubEvent:
			m.PubSub = ParsePubSubEvent(st)
		}
	}
}
