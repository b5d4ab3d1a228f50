package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// actionTimeout bounds the network part of an action (marker, join, roster).
const actionTimeout = 15 * time.Second

// conversations is the messages service: chats and rooms, the rows the
// screens draw (views.go), recall and correction (recall.go). It keeps no
// state of its own (messages are the store's; rooms the last sign-in could
// not rejoin are roomsAway's) and no lock. It reaches the rest of the
// Client only through conversationsHost, whose methods take Client.mu, and
// the clinical and attachments services (their own locks), so none of its
// methods may be called with Client.mu held. Client embeds it: its methods
// are Client's facade as they are.
type conversations struct {
	log     *slog.Logger
	clock   Clock
	changes *changeQueue       // the Client's
	clin    *clinical          // alerts and ladders pin conversations and mark rows
	att     *attachmentService // a row's files; forgetting a recalled message's
	heap    *heapReturn        // returned to the OS once older pages stop coming (memory.go)
	host    conversationsHost
}

// conversationsHost is what the messages service needs from the rest of
// the Client, by concern.
type conversationsHost interface {
	// The session (client.go): the open store, with its Session; the
	// account; activity, which defers auto-lock (lock.go).
	unlocked() (*securestore.Store, error)
	sess() (*securestore.Store, *sync.Session, error)
	Account() string
	Touch()
	// Policy and on-call (policy.go, oncall.go): level names, roles held.
	effectivePolicy() Policy
	schedule() []Shift
	// Presence (presence.go), rooms not rejoined (events.go), notifications
	// (notify.go).
	presenceOf(bare string) (show, status string)
	// People (faces.go): a person's picture or initials.
	avatarOf(st *securestore.Store, name, bare string) Avatar
	roomUnavailable(room string) string
	roomRejoined(room string)
	clearNotification(conv string)
	// The audit log (audit.go).
	audit(kind, detail string)
	auditWith(st *securestore.Store, kind, detail string)
}

// Send stores a message for conv and sends it when connected (it is queued
// while offline). The text is trimmed; empty text returns ErrEmptyMessage,
// more than MaxMessageRunes characters ErrMessageTooLong.
func (c *Client) Send(conv, text string) (securestore.MessageID, error) {
	return c.SendUrgent(conv, text, securestore.UrgencyNormal)
}

// SendUrgent is Send with a clinical urgency: urgent and STAT require an
// acknowledgement and start the policy's escalation ladder (SendClinical
// has the other options).
func (c *Client) SendUrgent(conv, text string, urgency securestore.Urgency) (securestore.MessageID, error) {
	s, err := c.SendClinical(conv, text, ClinicalOptions{Urgency: urgency})
	return s.ID, err
}

// MarkShown records that the user has seen conv up to message upTo: unread
// drops, the sender gets a displayed marker, the user's other devices learn
// it (XEP-0490) and the notification is withdrawn. It waits for the network
// at most a few seconds; call it off the UI goroutine.
func (cc *conversations) MarkShown(conv string, upTo securestore.MessageID) error {
	_, s, err := cc.host.sess()
	if err != nil {
		return err
	}
	conv = jid.Bare(conv)
	cc.host.clearNotification(conv)
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	return mapErr(s.MarkDisplayed(ctx, conv, upTo))
}

// chatJID validates a user-typed address for a chat or room.
func chatJID(s string) (string, error) {
	j, err := jid.Parse(strings.TrimSpace(s))
	if err != nil || j.Domain == "" || strings.ContainsAny(j.Domain, " /") {
		return "", fmt.Errorf("%w: %q", ErrInvalidAddress, s)
	}
	return j.Bare().String(), nil
}

// StartChat opens (creating if needed) the conversation with address and
// returns its id.
func (cc *conversations) StartChat(address string) (string, error) {
	bare, err := chatJID(address)
	if err != nil {
		return "", err
	}
	if j, _ := jid.Parse(bare); j.Local == "" {
		return "", fmt.Errorf("%w: %q", ErrInvalidAddress, address)
	}
	st, err := cc.host.unlocked()
	if err != nil {
		return "", err
	}
	if _, err := st.Conversation(bare); err == nil {
		return bare, nil
	} else if !errors.Is(err, securestore.ErrNotFound) {
		return "", mapErr(err)
	}
	if err := st.SetConversation(bare, securestore.KindChat, ""); err != nil {
		return "", mapErr(err)
	}
	cc.changes.push(Change{Kind: InboxChanged})
	return bare, nil
}

// JoinRoom joins an existing group chat room under nick (default: our
// address's local part) and keeps it joined across sign-ins. It never creates
// one: a room that does not exist is ErrRoomNotFound (CreateRoom creates
// rooms, on purpose and configured for a hospital).
func (cc *conversations) JoinRoom(room, nick string) (string, error) {
	bare, err := chatJID(room)
	if err != nil {
		return "", err
	}
	_, s, err := cc.host.sess()
	if err != nil {
		return "", err
	}
	nick = cc.roomNick(nick)
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	if err := s.JoinRoom(ctx, bare, nick); err != nil {
		return "", roomErr(err)
	}
	cc.host.roomRejoined(bare)
	cc.changes.push(Change{Kind: InboxChanged})
	return bare, nil
}

// CreateRoom creates a group chat room at room and joins it as its owner
// under nick (default: our address's local part). The room is members-only
// (members are the bare JIDs let in besides us), non-anonymous (everyone sees
// who is who), persistent, hidden from the server's room list and archived,
// so every member's devices catch up; each member is sent an invitation.
// name is what members see ("" leaves the address). A room already at that
// address is ErrRoomExists. Needs a connection.
func (cc *conversations) CreateRoom(room, nick, name string, members []string) (string, error) {
	bare, err := chatJID(room)
	if err != nil {
		return "", err
	}
	var ms []string
	for _, m := range members {
		b, err := chatJID(m)
		if err != nil {
			return "", err
		}
		ms = append(ms, b)
	}
	_, s, err := cc.host.sess()
	if err != nil {
		return "", err
	}
	nick = cc.roomNick(nick)
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	if err := s.CreateRoom(ctx, bare, nick, strings.TrimSpace(name), ms); err != nil {
		return "", roomErr(err)
	}
	// The members' devices show the room as an invitation (XEP-0249) to
	// accept; without it they would have to be told its address.
	for _, m := range ms {
		if err := s.InviteToRoom(ctx, bare, m, strings.TrimSpace(name)); err != nil {
			cc.log.Warn("app: invitation to a new room not sent", "room", bare, "err", err)
		}
	}
	cc.changes.push(Change{Kind: InboxChanged})
	return bare, nil
}

// roomErr maps the engine's room errors to the app's.
func roomErr(err error) error {
	switch {
	case errors.Is(err, sync.ErrRoomNotFound):
		return ErrRoomNotFound
	case errors.Is(err, sync.ErrRoomExists):
		return ErrRoomExists
	}
	return mapErr(err)
}

// AddContact adds jid to the roster under name and asks to see their
// presence. Needs a connection.
func (cc *conversations) AddContact(jid, name string) error {
	bare, err := chatJID(jid)
	if err != nil {
		return err
	}
	_, s, err := cc.host.sess()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	return mapErr(s.AddContact(ctx, bare, strings.TrimSpace(name)))
}

// roomNick is the nick to join or create a room under: the one given, else
// our address's local part.
func (cc *conversations) roomNick(nick string) string {
	if nick = strings.TrimSpace(nick); nick != "" {
		return nick
	}
	return localPart(cc.host.Account())
}
