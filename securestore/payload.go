package securestore

import (
	"fmt"
	"slices"
)

// Payload encodings of the sealed records. Each starts with a one-byte payload
// version so fields can be added later; decoders reject newer versions with
// ErrNewerVersion and malformed bytes with ErrCorrupt.

const payloadV1 = 1

func payloadErr(what string, r *reader, version byte) error {
	if version > payloadV1 {
		return fmt.Errorf("%w: %s payload version %d", ErrNewerVersion, what, version)
	}
	if err := r.done(); err != nil {
		return corruptf("%s: %v", what, err)
	}
	return nil
}

func encodeReceipt(w *writer, rc *Receipt) {
	w.u8(uint8(rc.State))
	// Only states reached carry a time: a bitmask then the times.
	var mask uint8
	for i := range rc.At {
		if !rc.At[i].IsZero() {
			mask |= 1 << i
		}
	}
	w.u8(mask)
	for i := range rc.At {
		if mask&(1<<i) != 0 {
			w.time(rc.At[i])
		}
	}
	w.str(rc.Reason)
}

func decodeReceipt(r *reader) Receipt {
	var rc Receipt
	rc.State = ReceiptState(r.u8())
	if rc.State >= numReceiptStates {
		r.fail()
		return rc
	}
	mask := r.u8()
	for i := range rc.At {
		if mask&(1<<i) != 0 {
			rc.At[i] = r.time()
		}
	}
	rc.Reason = r.str()
	return rc
}

func encodeMessage(dst []byte, m *Message) []byte {
	w := writer{b: dst}
	w.u8(payloadV1)
	w.str(m.ConversationID)
	w.str(m.From)
	w.str(m.To)
	w.u8(uint8(m.Direction))
	w.str(m.Body)
	w.str(m.OriginID)
	w.str(m.StanzaID)
	w.str(m.StanzaIDBy)
	w.time(m.Timestamp)
	w.time(m.ReceivedAt)
	encodeReceipt(&w, &m.Receipt)
	// Key lists on the stack: a message has a handful of Extra fields, and
	// this runs for every message stored.
	var ks [16]string
	w.uvarint(uint64(len(m.Members)))
	for _, k := range appendSortedKeys(ks[:0], m.Members) {
		w.str(k)
		rc := m.Members[k]
		encodeReceipt(&w, &rc)
	}
	w.u8(uint8(m.Urgency))
	w.uvarint(uint64(len(m.Extra)))
	for _, k := range appendSortedKeys(ks[:0], m.Extra) {
		w.str(k)
		w.str(m.Extra[k])
	}
	return w.b
}

func decodeMessage(b []byte, id MessageID) (Message, error) {
	r := reader{b: b}
	v := r.u8()
	if v != payloadV1 {
		return Message{}, payloadErr("message", &reader{err: errShort}, v)
	}
	m := Message{ID: id}
	m.ConversationID = r.str()
	m.From = r.str()
	m.To = r.str()
	m.Direction = Direction(r.u8())
	m.Body = r.str()
	m.OriginID = r.str()
	m.StanzaID = r.str()
	m.StanzaIDBy = r.str()
	m.Timestamp = r.time()
	m.ReceivedAt = r.time()
	m.Receipt = decodeReceipt(&r)
	if n := r.count(); n > 0 {
		m.Members = make(map[string]Receipt, n)
		for range n {
			k := r.str()
			m.Members[k] = decodeReceipt(&r)
		}
	}
	m.Urgency = Urgency(r.u8())
	if n := r.count(); n > 0 {
		m.Extra = make(map[string]string, n)
		for range n {
			k := r.str()
			m.Extra[k] = r.str()
		}
	}
	if m.Direction > Outgoing || m.Urgency > UrgencyCritical {
		r.fail()
	}
	if err := payloadErr("message", &r, v); err != nil {
		return Message{}, err
	}
	return m, nil
}

func encodeConversation(c *Conversation) []byte {
	w := writer{b: make([]byte, 0, 64+len(c.ID)+len(c.Title))}
	w.u8(payloadV1)
	w.str(c.ID)
	w.u8(uint8(c.Kind))
	w.str(c.Title)
	w.time(c.LastActivity)
	w.uvarint(uint64(c.Unread))
	w.uvarint(uint64(c.LastReadID))
	w.bytes(c.lastReadKey)
	return w.b
}

func decodeConversation(b []byte) (Conversation, error) {
	r := reader{b: b}
	v := r.u8()
	if v != payloadV1 {
		return Conversation{}, payloadErr("conversation", &reader{err: errShort}, v)
	}
	var c Conversation
	c.ID = r.str()
	c.Kind = ConversationKind(r.u8())
	c.Title = r.str()
	c.LastActivity = r.time()
	c.Unread = int(min(r.uvarint(), 1<<31))
	c.LastReadID = MessageID(r.uvarint())
	c.lastReadKey = r.bytes()
	return c, payloadErr("conversation", &r, v)
}

func encodeContact(c *Contact) []byte {
	w := writer{}
	w.u8(payloadV1)
	w.str(c.JID)
	w.str(c.Name)
	w.str(c.Subscription)
	w.uvarint(uint64(len(c.Groups)))
	for _, g := range c.Groups {
		w.str(g)
	}
	return w.b
}

func decodeContact(b []byte) (Contact, error) {
	r := reader{b: b}
	v := r.u8()
	if v != payloadV1 {
		return Contact{}, payloadErr("contact", &reader{err: errShort}, v)
	}
	var c Contact
	c.JID = r.str()
	c.Name = r.str()
	c.Subscription = r.str()
	if n := r.count(); n > 0 {
		c.Groups = make([]string, n)
		for i := range c.Groups {
			c.Groups[i] = r.str()
		}
	}
	return c, payloadErr("contact", &r, v)
}

func encodeAccount(a *Account) []byte {
	w := writer{}
	w.u8(payloadV1)
	w.str(a.JID)
	w.str(a.WebSocketURL)
	w.str(a.Resource)
	c := &a.Credentials
	w.str(c.Mechanism)
	w.bytes(c.Salt)
	w.uvarint(uint64(max(c.Iterations, 0)))
	w.bytes(c.SaltedPassword)
	w.bytes(c.ClientKey)
	w.bytes(c.ServerKey)
	w.str(c.PlainPassword)
	return w.b
}

func decodeAccount(b []byte) (Account, error) {
	r := reader{b: b}
	v := r.u8()
	if v != payloadV1 {
		return Account{}, payloadErr("account", &reader{err: errShort}, v)
	}
	var a Account
	a.JID = r.str()
	a.WebSocketURL = r.str()
	a.Resource = r.str()
	c := &a.Credentials
	c.Mechanism = r.str()
	c.Salt = r.bytes()
	c.Iterations = int(min(r.uvarint(), 1<<31))
	c.SaltedPassword = r.bytes()
	c.ClientKey = r.bytes()
	c.ServerKey = r.bytes()
	c.PlainPassword = r.str()
	return a, payloadErr("account", &r, v)
}

func encodeAttachment(a *Attachment) []byte {
	w := writer{}
	w.u8(payloadV1)
	w.str(a.ID)
	w.uvarint(uint64(a.MessageID))
	w.str(a.Name)
	w.str(a.MIME)
	w.varint(a.Size)
	w.str(a.URL)
	w.bytes(a.Key)
	w.bytes(a.SHA256)
	return w.b
}

func decodeAttachment(b []byte) (Attachment, error) {
	r := reader{b: b}
	v := r.u8()
	if v != payloadV1 {
		return Attachment{}, payloadErr("attachment", &reader{err: errShort}, v)
	}
	var a Attachment
	a.ID = r.str()
	a.MessageID = MessageID(r.uvarint())
	a.Name = r.str()
	a.MIME = r.str()
	a.Size = r.varint()
	a.URL = r.str()
	a.Key = r.bytes()
	a.SHA256 = r.bytes()
	return a, payloadErr("attachment", &r, v)
}

// appendSortedKeys appends m's keys to ks, sorted.
func appendSortedKeys[V any](ks []string, m map[string]V) []string {
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
