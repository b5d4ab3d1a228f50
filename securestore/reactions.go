package securestore

import (
	"encoding/json"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// ExtraReactions holds a message's reactions (XEP-0444 on the wire): for
// each author, as the sync engine names them, the whole set they gave and
// when. Sealed with the message and shredded with it.
const ExtraReactions = "reactions"

// Reaction is one author's set of reactions to a message.
type Reaction struct {
	Values []string  `json:"v"`
	At     time.Time `json:"at"`
}

// Reactions reads a message's reactions by author; nil when none (or
// unreadable: a damaged field shows no reactions rather than failing the
// message).
func Reactions(m Message) map[string]Reaction {
	raw := m.Extra[ExtraReactions]
	if raw == "" {
		return nil
	}
	var out map[string]Reaction
	if json.Unmarshal([]byte(raw), &out) != nil {
		return nil
	}
	return out
}

// SetReaction replaces author's set of reactions to message id with values
// (empty: withdrawn), unless the set stored was given later than at: sets
// arrive live, as carbons and again from archives, in any order, and the
// latest one an author gave wins. It reports whether anything changed; the
// same set again changes nothing.
func (s *Store) SetReaction(id MessageID, author string, values []string, at time.Time) (bool, error) {
	return s.SetReactionOnce(id, author, values, at, "", "", false)
}

// SetReactionOnce is SetReaction for a reaction stanza that carries the id
// archive by assigned it (XEP-0359 stanza-id; "" for none): it is recorded
// as applied in the same transaction (applied.go), and one recorded before
// (live, then again from an archive) changes nothing. newest: the caller
// knows this set is the author's newest in the archive's order (the
// archive tail's look-back), so it replaces the stored one whatever their
// times.
func (s *Store) SetReactionOnce(id MessageID, author string, values []string, at time.Time, by, stanzaID string, newest bool) (bool, error) {
	if author == "" {
		return false, ErrInvalid
	}
	return s.editMessage(id, func(tx *bbolt.Tx, m *Message) (bool, error) {
		if seen, err := s.applyOnce(tx, by, stanzaID, at); err != nil || seen {
			return false, err
		}
		all := Reactions(*m)
		if all == nil {
			all = map[string]Reaction{}
		}
		old, had := all[author]
		// Where the archive's order is known, it, not the stamps, says
		// which is newer. The stamps mix this device's clock (live) with
		// the server's whole seconds (archived): a withdrawal archived in
		// the second of its reaction read as older than the reaction's
		// live time.
		if had && old.At.After(at) && !newest {
			return false, nil
		}
		if had && slices.Equal(old.Values, values) || !had && len(values) == 0 {
			return false, nil
		}
		if len(values) == 0 {
			delete(all, author)
		} else {
			all[author] = Reaction{Values: slices.Clone(values), At: at.UTC()}
		}
		if len(all) == 0 {
			delete(m.Extra, ExtraReactions)
			return true, nil
		}
		raw, err := json.Marshal(all)
		if err != nil {
			return false, err
		}
		m.Extra[ExtraReactions] = string(raw)
		return true, nil
	})
}
