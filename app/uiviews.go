package app

import (
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// MessageMarks are stored facts about a message that a thread shows beside
// its text but MessageRow does not carry: that it is a clinical order, and
// the on-call role it was addressed to (so the thread says "To Cardiology
// on call" and whom that reached).
type MessageMarks struct {
	Order bool
	Role  string
}

// Marks returns the marks of those messages of conv that have any. It reads
// each message from the store, so the UI asks for a page off its goroutine.
func (c *Client) Marks(conv string, ids []securestore.MessageID) (map[securestore.MessageID]MessageMarks, error) {
	st, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	conv = xmpp.BareJID(conv)
	out := map[securestore.MessageID]MessageMarks{}
	for _, id := range ids {
		m, err := st.Message(id)
		if err != nil || m.ConversationID != conv {
			continue
		}
		mk := MessageMarks{Order: m.Extra[extraOrder] == "1", Role: m.Extra[extraRole]}
		if mk.Order || mk.Role != "" {
			out[id] = mk
		}
	}
	return out, nil
}
