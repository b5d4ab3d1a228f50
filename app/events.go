package app

import (
	"strings"
	gosync "sync"

	"rounds/securestore"
	"rounds/sync"
)

// roomsAway holds remembered rooms the last sign-in could not rejoin, with
// why (ConversationRow.Unavailable).
//
// It is a service guarded by Client.mu (mu points at it): the lifecycle
// forgets the rooms under that one lock at lock and sign-out. It audits
// through roomsAwayHost, after letting mu go. Client embeds it; the
// conversations service asks it through conversationsHost.
type roomsAway struct {
	roomsOut map[string]string

	mu      *gosync.Mutex // Client.mu
	changes *changeQueue
	host    roomsAwayHost
}

// roomsAwayHost is what rooms away asks of the rest of the Client: the
// audit log (audit.go).
type roomsAwayHost interface {
	auditWith(st *securestore.Store, kind, detail string)
}

// handle turns one engine event into UI changes and notifications. It runs on
// the Client's event loop, with the store the event came from (still open:
// Lock waits for this loop to end before closing it).
func (c *Client) handle(st *securestore.Store, e sync.Event) {
	switch e := e.(type) {
	case sync.MessagesAdded:
		// What catch-up stored redraws at most every catchUpWindow; a live
		// message at once (changes.go).
		push := c.changes.push
		if e.CatchUp {
			push = c.changes.pushBulk
		}
		seen := map[string]bool{}
		for _, m := range e.Messages {
			if !seen[m.ConversationID] {
				seen[m.ConversationID] = true
				push(Change{Kind: ConversationChanged, Conversation: m.ConversationID})
			}
		}
		push(Change{Kind: InboxChanged})
		// The batch's quick responses, and our own acknowledgements by
		// text reply, are recorded already: the engine resolves them and
		// sends ResponseReceived before MessagesAdded, so no alert is
		// raised for a message this batch shows acknowledged (catch-up
		// after another device).
		c.clin.escalationClosed(e.Messages)
		// Do not disturb (dnd.go) answers, forwards, and keeps quiet what
		// the policy does not let through.
		msgs := withoutIDs(e.Messages, c.dnd.incoming(st, e.Messages))
		handled, alerted := c.clin.raiseAlerts(st, msgs, e.CatchUp)
		rest := msgs
		if len(handled) > 0 {
			rest = make([]securestore.Message, 0, len(msgs))
			for _, m := range msgs {
				if !handled[m.ID] {
					rest = append(rest, m)
				}
			}
		}
		c.notifyExcept(st, rest, e.CatchUp, alerted)
	case sync.ReceiptChanged:
		if m, err := st.Message(e.Message); err == nil {
			c.changes.push(Change{Kind: ConversationChanged, Conversation: m.ConversationID})
			if e.State == securestore.ReceiptAcknowledged {
				by := e.Member
				if by == "" {
					by = m.ConversationID
				}
				c.clin.ladderAcknowledged(st, e.Message, by, e.At)
			}
		}
	case sync.ReactionsChanged:
		c.changes.push(Change{Kind: ConversationChanged, Conversation: e.Conversation})
	case sync.ConnectionChanged:
		c.changes.push(Change{Kind: ConnectionChanged})
	case sync.ArrivedLocked:
		c.onLockedArrival(e)
	case sync.LockedAnswered:
		c.onLockedAnswered(e)
	case sync.RosterChanged, sync.ProfilesUpdated:
		c.faces.forget() // a picture may have changed
		if rc, ok := e.(sync.RosterChanged); ok && !rc.Removed {
			c.onRosterAnswered(rc.Contact)
		}
		c.changes.push(Change{Kind: DirectoryChanged})
		c.changes.push(Change{Kind: InboxChanged})
	case sync.PresenceRequested:
		_, s := c.openSession()
		c.onPresenceRequested(s, e)
	case sync.PresenceChanged:
		if c.notePresence(e) {
			c.changes.push(Change{Kind: DirectoryChanged})
			c.changes.push(Change{Kind: InboxChanged})
		}
	case sync.DNDChanged:
		c.dnd.onChanged(st, e)
	case sync.PolicyUpdated:
		if e.Locked {
			// The store is closed; the unlock's merge applies it. Only
			// what must not wait: <cold-start listen='false'/> removes
			// the listen ticket (its sign-in keys) at once.
			org := orgPolicyFromWire(e.Policy)
			if mergePolicy(c.cfg.Policy, &org).DeafAfterRestart {
				c.dropListenTicket()
			}
			break
		}
		c.onPolicyUpdated(st, e)
		if c.Policy().DeafAfterRestart {
			c.dropListenTicket() // <cold-start listen='false'/>: at once (coldstart.go)
		}
	case sync.OnCallUpdated:
		c.onOnCallUpdated(st, e)
	case sync.WipeRequested:
		if e.Locked {
			c.onLockedWipeRequest(e.From, e.ID, e.Issued) // locked.go
			break
		}
		c.onWipeRequested(st, e.From, e.ID, e.Issued)
	case sync.RoomUnavailable:
		c.onRoomUnavailable(st, e)
	case sync.RoomInvited:
		// An invitation waits in the inbox (careteam.go).
		c.changes.push(Change{Kind: InboxChanged})
	case sync.RoomsChanged:
		// Rooms another device of the account joined or left appear or go
		// here too, without the user acting on this device: audited, so a
		// room that vanished from a ward device can be accounted for.
		for _, r := range e.Joined {
			c.auditWith(st, AuditRoomJoinedElsewhere, r)
		}
		for _, r := range e.Left {
			c.auditWith(st, AuditRoomLeftElsewhere, r)
		}
		c.changes.push(Change{Kind: InboxChanged})
	case sync.ConversationRead:
		c.clin.alertsRead(st, e.Conversation, e.Message)
		c.clearNotification(e.Conversation)
		c.changes.push(Change{Kind: ConversationChanged, Conversation: e.Conversation})
		c.changes.push(Change{Kind: InboxChanged})
	default:
		c.handleClinical(st, e)
	}
}

// Audit kinds of rooms followed from another device's bookmarks (detail:
// the room's address).
const (
	AuditRoomJoinedElsewhere = "room-joined-elsewhere"
	AuditRoomLeftElsewhere   = "room-left-elsewhere"
)

// AuditRoomUnavailable: a remembered room could not be rejoined at sign-in.
const AuditRoomUnavailable = "room-unavailable"

// onRoomUnavailable records why a room was not rejoined, so its row says so,
// and audits it (room address and the server's condition only).
func (ra *roomsAway) onRoomUnavailable(st *securestore.Store, e sync.RoomUnavailable) {
	why := "Could not rejoin this room; trying again at the next sign-in."
	detail := e.Room + " " + e.Condition
	switch {
	case e.Gone:
		why, detail = "This room no longer exists.", e.Room+" gone"
	case e.Condition == "registration-required":
		why = "You are no longer a member of this room."
	case e.Condition == "forbidden":
		why = "This room no longer lets you in."
	}
	ra.mu.Lock()
	if ra.roomsOut == nil {
		ra.roomsOut = map[string]string{}
	}
	ra.roomsOut[e.Room] = why
	ra.mu.Unlock()
	ra.host.auditWith(st, AuditRoomUnavailable, strings.TrimSpace(detail))
	ra.changes.push(Change{Kind: ConversationChanged, Conversation: e.Room})
	ra.changes.push(Change{Kind: InboxChanged})
}

// roomUnavailable is why room was not rejoined, or "".
func (ra *roomsAway) roomUnavailable(room string) string {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	return ra.roomsOut[room]
}

// roomRejoined forgets why room was not rejoined: it is joined now.
func (ra *roomsAway) roomRejoined(room string) {
	ra.mu.Lock()
	delete(ra.roomsOut, room)
	ra.mu.Unlock()
}
