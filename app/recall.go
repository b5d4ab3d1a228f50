package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// A message sent to the wrong person or with a wrong dose must be taken back
// everywhere it went: Recall retracts it (XEP-0424) on every device of every
// recipient running Rounds, leaves a tombstone "Message recalled at 14:02"
// in the thread, audits it, and shreds the keys of its attachments so the
// uploaded files cannot be read any more. Correct replaces the text
// (XEP-0308) and keeps every earlier version in the message's history.

var (
	// ErrNotYourMessage: only the sender may recall or correct a message.
	ErrNotYourMessage = errors.New("you can recall or correct only messages you sent")
	// ErrRecalled: the message was recalled; it cannot be corrected.
	ErrRecalled = errors.New("this message was recalled")
	// ErrForwardNotCorrectable: a forward quotes another person's words;
	// recall it and forward again instead.
	ErrForwardNotCorrectable = errors.New("a forwarded message cannot be corrected: it quotes someone else's words (recall it instead)")
)

// BodyVersion is an earlier text of a corrected message.
type BodyVersion struct {
	Body string
	At   time.Time // when this text was written (sent or corrected)
}

// ownMessage loads message id of conv and checks it is ours.
func ownMessage(st *securestore.Store, conv string, id securestore.MessageID) (securestore.Message, error) {
	m, err := st.Message(id)
	if errors.Is(err, securestore.ErrNotFound) || (err == nil && m.ConversationID != jid.Bare(conv)) {
		return m, ErrNoSuchMessage
	} else if err != nil {
		return m, mapErr(err)
	}
	if m.Direction != securestore.Outgoing {
		return m, ErrNotYourMessage
	}
	return m, nil
}

// Recall retracts one of our messages everywhere. Recalling twice is not
// an error. An escalation running for the message ends and its escalated
// copies are recalled too.
func (cc *conversations) Recall(conv string, id securestore.MessageID) error {
	st, s, err := cc.host.sess()
	if err != nil {
		return err
	}
	conv = jid.Bare(conv)
	m, err := ownMessage(st, conv, id)
	if err != nil {
		return err
	}
	if m.Extra[extraRetracted] != "" {
		return nil
	}
	cc.host.Touch()
	// Before the store's retraction drops the attachment records that
	// name the vault files.
	cc.att.discard(st, s, id)
	if err := s.Retract(conv, id); err != nil {
		return mapErr(err)
	}
	cc.host.auditWith(st, securestore.AuditRecall, fmt.Sprintf("recalled message %d (origin-id %s)", id, m.OriginID))
	cc.afterRecall(st, s, id)
	return nil
}

// afterRecall runs wherever a message was recalled (here, or the carbon of
// a recall from another device): alerts on it end, attachment keys go, and
// a ladder of ours ends with its copies recalled.
func (cc *conversations) afterRecall(st *securestore.Store, s *sync.Session, id securestore.MessageID) {
	cc.clin.alertAcknowledged(id)
	cc.att.discard(st, s, id)
	m, err := st.Message(id)
	if err != nil {
		return
	}
	if m.Direction == securestore.Outgoing {
		cc.clin.ladderRecalled(st, s, m)
	}
	cc.changes.push(Change{Kind: ConversationChanged, Conversation: m.ConversationID})
	cc.changes.push(Change{Kind: InboxChanged})
}

// Correct replaces the text of one of our messages; the earlier text stays
// in History. The same text again changes nothing.
func (cc *conversations) Correct(conv string, id securestore.MessageID, text string) error {
	text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
	if text == "" {
		return ErrEmptyMessage
	}
	if utf8.RuneCountInString(text) > MaxMessageRunes {
		return ErrMessageTooLong
	}
	st, s, err := cc.host.sess()
	if err != nil {
		return err
	}
	conv = jid.Bare(conv)
	m, err := ownMessage(st, conv, id)
	if err != nil {
		return err
	}
	if m.Extra[extraRetracted] != "" {
		return ErrRecalled
	}
	if m.Body == text {
		return nil
	}
	cc.host.Touch()
	if err := s.Correct(conv, id, text); err != nil {
		if errors.Is(err, sync.ErrForwardNotCorrectable) {
			return ErrForwardNotCorrectable
		}
		return mapErr(err)
	}
	cc.changes.push(Change{Kind: ConversationChanged, Conversation: conv})
	return nil
}

// History lists a message's earlier texts, oldest first (empty when never
// corrected). A recalled message has none: its text is gone.
func (cc *conversations) History(id securestore.MessageID) ([]BodyVersion, error) {
	st, err := cc.host.unlocked()
	if err != nil {
		return nil, err
	}
	m, err := st.Message(id)
	if errors.Is(err, securestore.ErrNotFound) {
		return nil, ErrNoSuchMessage
	} else if err != nil {
		return nil, mapErr(err)
	}
	return parseHistory(m.Extra[extraHistory])
}

func parseHistory(s string) ([]BodyVersion, error) {
	if s == "" {
		return nil, nil
	}
	var raw []struct {
		Body string    `json:"body"`
		At   time.Time `json:"at"`
	}
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("%w: message history unreadable", securestore.ErrInvalid)
	}
	out := make([]BodyVersion, len(raw))
	for i, r := range raw {
		out[i] = BodyVersion{Body: r.Body, At: r.At}
	}
	return out, nil
}

// recalledAt is when m was recalled (zero if not).
func recalledAt(m securestore.Message) time.Time {
	return extraTime(m.Extra[extraRetracted])
}

func extraTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Unix(0, 0) // set but unreadable: still recalled
	}
	return t
}

// tombstone is what a thread shows instead of a recalled message.
func (cc *conversations) tombstone(at time.Time) string {
	return "Message recalled at " + cc.clockTime(at)
}
