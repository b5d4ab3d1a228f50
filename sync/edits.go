package sync

import (
	"rounds/securestore"
)

// Received recalls and corrections are durable before they are applied:
// each is recorded in the store (with the archive page and cursor it came
// in, or on its own when live) and applied from that record, which goes in
// the transaction that applies it (securestore, "Received edits"). An edit
// whose target is not stored yet waits and is applied when the target
// arrives, live or from an archive: a recall always wins, whatever the order.
// An edit that failed to apply is retried when its conversation next
// receives a message and at every sign-in (catchUp).

// settleEdits applies the recorded edits of convs (every conversation when
// convs is nil) whose targets are stored. added is a batch just stored and
// not yet announced: it comes back with the messages these edits changed
// re-read, and without the recalled ones, so a recalled message is never
// announced with its text (MessageRetracted tells the app of it).
func (s *Session) settleEdits(convs []string, added []securestore.Message) []securestore.Message {
	if convs == nil {
		convs = []string{""}
	}
	changed := map[securestore.MessageID]bool{}
	for _, conv := range convs {
		pend, err := s.store.ReceivedEdits(conv)
		if err != nil {
			s.log.Warn("sync: reading pending edits", "err", err)
			continue
		}
		for _, e := range pend {
			if id, ok := s.settleEdit(e); ok {
				changed[id] = true
			}
		}
	}
	if len(changed) == 0 || len(added) == 0 {
		return added
	}
	out := make([]securestore.Message, 0, len(added))
	for _, m := range added {
		if changed[m.ID] {
			fresh, err := s.store.Message(m.ID)
			if err != nil || fresh.Extra[securestore.ExtraRetracted] != "" {
				continue
			}
			m = fresh
		}
		out = append(out, m)
	}
	return out
}

// editConversations lists the conversations of a stored batch and of the
// edits stored with it: where a waiting edit may now find its target.
func editConversations(added []securestore.Message, edits []securestore.ReceivedEdit) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range added {
		if !seen[m.ConversationID] {
			seen[m.ConversationID] = true
			out = append(out, m.ConversationID)
		}
	}
	for _, e := range edits {
		if c := e.Edit.ConversationID; !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	if out == nil {
		out = []string{} // nil would mean every conversation
	}
	return out
}
