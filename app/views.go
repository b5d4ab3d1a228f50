package app

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// contactNames caches roster lookups for one view-model call; nil means
// "look each up in the store".
type contactNames map[string]securestore.Contact

func lookupContact(st *securestore.Store, names contactNames, jid string) (securestore.Contact, bool) {
	if names != nil {
		ct, ok := names[jid]
		return ct, ok
	}
	names, err := loadContacts(st)
	if err != nil {
		return securestore.Contact{}, false
	}
	ct, ok := names[jid]
	return ct, ok
}

func localPart(address string) string {
	if j, err := jid.Parse(address); err == nil && j.Local != "" {
		return j.Local
	}
	return address
}

// conversationTitle: chats by the contact's roster name, rooms by their
// title (subject) or the room JID's local part; the JID when nothing better.
func conversationTitle(st *securestore.Store, cv securestore.Conversation, names contactNames) string {
	if cv.Kind == securestore.KindRoom {
		if cv.Title != "" {
			return cv.Title
		}
		return localPart(cv.ID)
	}
	if ct, ok := lookupContact(st, names, cv.ID); ok && strings.TrimSpace(ct.Name) != "" {
		return strings.TrimSpace(ct.Name)
	}
	if cv.Title != "" {
		return cv.Title
	}
	return cv.ID
}

// memberName names a room member (bare JID or nick) or a peer for display.
func memberName(st *securestore.Store, key string, names contactNames) string {
	if strings.Contains(key, "@") {
		if ct, ok := lookupContact(st, names, jid.Bare(key)); ok && strings.TrimSpace(ct.Name) != "" {
			return strings.TrimSpace(ct.Name)
		}
		return localPart(key)
	}
	return key
}

// senderName: "You" for our own messages; in rooms the member's nick (or
// roster name when the nick is a JID we know); in chats the peer's name.
func senderName(st *securestore.Store, cv securestore.Conversation, m securestore.Message, names contactNames) string {
	if m.Direction == securestore.Outgoing {
		return "You"
	}
	if cv.Kind == securestore.KindRoom {
		if j, err := jid.Parse(m.From); err == nil && j.Resource != "" {
			return j.Resource
		}
		return localPart(m.From)
	}
	return conversationTitle(st, cv, names)
}

// Inbox lists conversations, urgent ones first, then by last activity, with
// unread counts, a preview of the last message and the peer's presence.
// query filters by title or JID (case-insensitive).
func (cc *conversations) Inbox(query string) ([]ConversationRow, error) {
	st, err := cc.host.unlocked()
	if err != nil {
		return nil, err
	}
	convs, err := st.Conversations()
	if err != nil {
		return nil, mapErr(err)
	}
	names, err := loadContacts(st)
	if err != nil {
		return nil, mapErr(err)
	}
	q := strings.ToLower(strings.TrimSpace(query))
	cards := sync.Profiles(st)
	cc.clin.follow(st)
	alerting, waiting := cc.clin.alertingConversations(), cc.clin.ladderActiveConversations()
	service := strings.ToLower(cc.host.effectivePolicy().Escalation.Service)
	rows := make([]ConversationRow, 0, len(convs))
	for _, cv := range convs {
		if service != "" && strings.EqualFold(cv.ID, service) && !serviceConversationShown(st, cv, alerting) {
			continue
		}
		row := ConversationRow{
			ID: cv.ID, Title: conversationTitle(st, cv, names), IsRoom: cv.Kind == securestore.KindRoom,
			LastActivity: cv.LastActivity, Unread: cv.Unread,
		}
		row.Muted, _ = muteOf(st, cv.ID, cc.clock.Now()) // mute.go
		row.Draft = draftPreview(st, cv.ID)              // mute.go
		if q != "" && !strings.Contains(strings.ToLower(row.Title), q) && !strings.Contains(strings.ToLower(row.ID), q) {
			continue
		}
		last, err := st.Latest(cv.ID, 1)
		if err != nil {
			return nil, mapErr(err)
		}
		if len(last) == 1 {
			row.Preview = previewText(last[0].Body)
			if p := attachmentPreview(st, last[0]); p != "" {
				row.Preview = p
			}
			if t := recalledAt(last[0]); !t.IsZero() {
				row.Preview = cc.tombstone(t)
			}
			if last[0].Extra[sync.ExtraWipe] != "" && last[0].Direction == securestore.Incoming {
				row.Preview = "Remote-wipe request ignored"
			}
			if t := unreadableText(last[0], senderName(st, cv, last[0], names)); t != "" {
				row.Preview = previewText(t)
			}
		}
		// Pinned: an urgent alert is open here (unread, or unacknowledged
		// where acknowledgement is required), or an ack-required message of
		// ours still waits for its acknowledgement.
		ua, isAlerting := alerting[cv.ID]
		uw, isWaiting := waiting[cv.ID]
		row.Urgent = isAlerting || isWaiting
		if row.Urgent {
			row.UrgentLevel = max(ua.Urgency, uw)
		}
		// An open alert speaks for the conversation: the preview is the
		// page still waiting for this user, not a later line (their own
		// "In 5 minutes", say).
		if isAlerting {
			if p := cc.alertPreview(st, ua); p != "" {
				row.Preview = p
			}
		}
		if !row.IsRoom {
			row.Presence, _ = cc.host.presenceOf(cv.ID)
			row.Avatar = cc.host.avatarOf(st, row.Title, cv.ID)
			row.Role = cards[jid.Bare(cv.ID)].Role
		} else {
			row.Unavailable = cc.host.roomUnavailable(cv.ID)
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b ConversationRow) int {
		if a.Urgent != b.Urgent {
			if a.Urgent {
				return -1
			}
			return 1
		}
		if r := b.LastActivity.Compare(a.LastActivity); r != 0 {
			return r
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return rows, nil
}

// serviceConversationShown: the conversation with the escalation service
// the policy names is infrastructure (hand-off copies, responses addressed
// to the service), left out of the inbox unless it holds something for the
// user to read: an open alert, or a message from the service among the
// latest (an escalated copy to acknowledge, an admin's command reply).
func serviceConversationShown(st *securestore.Store, cv securestore.Conversation, alerting map[string]Alert) bool {
	if _, ok := alerting[cv.ID]; ok || cv.Unread > 0 {
		return true
	}
	latest, err := st.Latest(cv.ID, 50)
	if err != nil {
		return true
	}
	return slices.ContainsFunc(latest, func(m securestore.Message) bool { return m.Direction == securestore.Incoming })
}

// alertPreview is an open alert's inbox line: its level and the first line
// of its text ("" when the message cannot be read).
func (cc *conversations) alertPreview(st *securestore.Store, a Alert) string {
	m, err := st.Message(a.Message)
	if err != nil || strings.TrimSpace(m.Body) == "" || !recalledAt(m).IsZero() {
		return ""
	}
	level := "Ack requested"
	if a.Urgency > securestore.UrgencyNormal {
		level = cc.host.effectivePolicy().Levels.Name(a.Urgency)
	}
	return level + ": " + previewText(m.Body)
}

// Messages returns the latest n messages of conv, oldest first.
func (cc *conversations) Messages(conv string, n int) ([]MessageRow, error) {
	st, err := cc.host.unlocked()
	if err != nil {
		return nil, err
	}
	conv = jid.Bare(conv)
	ms, err := st.Latest(conv, n)
	if err != nil {
		return nil, mapErr(err)
	}
	return cc.rows(st, conv, ms)
}

// Older returns up to n messages of conv before the message before, oldest
// first: the page to prepend when the user scrolls up.
func (cc *conversations) Older(conv string, before securestore.MessageID, n int) ([]MessageRow, error) {
	st, err := cc.host.unlocked()
	if err != nil {
		return nil, err
	}
	conv = jid.Bare(conv)
	ms, err := st.Before(conv, before, n)
	if err != nil {
		return nil, mapErr(err)
	}
	if cc.heap != nil {
		cc.heap.settleAfter(historySettle)
	}
	return cc.rows(st, conv, ms)
}

// rows turns stored messages into view rows. DayBreak compares local
// calendar days, with the message before the page for the first row.
func (cc *conversations) rows(st *securestore.Store, conv string, ms []securestore.Message) ([]MessageRow, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	cv, err := st.Conversation(conv)
	if err != nil {
		if !errors.Is(err, securestore.ErrNotFound) {
			return nil, mapErr(err)
		}
		cv = securestore.Conversation{ID: conv}
	}
	names, err := loadContacts(st)
	if err != nil {
		return nil, mapErr(err)
	}
	title, room := conversationTitle(st, cv, names), cv.Kind == securestore.KindRoom
	var prevDay time.Time
	if prev, err := st.Before(conv, ms[0].ID, 1); err == nil && len(prev) == 1 {
		prevDay = localDay(prev[0].Timestamp)
	}
	out := make([]MessageRow, len(ms))
	for i, m := range ms {
		day := localDay(m.Timestamp)
		r := MessageRow{
			ID: m.ID, Outgoing: m.Direction == securestore.Outgoing,
			Sender: senderName(st, cv, m, names), Body: m.Body, Timestamp: m.Timestamp,
			Receipt: m.Receipt, Urgency: m.Urgency,
			DayBreak: !day.Equal(prevDay),
		}
		if len(m.Members) > 0 {
			r.Members = make(map[string]securestore.Receipt, len(m.Members))
			for k, rc := range m.Members {
				r.Members[memberName(st, k, names)] = rc
			}
		}
		if len(m.Extra) > 0 {
			cc.clinicalRow(st, cv, m, names, &r)
			autoRow(st, m, names, &r) // dnd.go
		}
		cc.att.rows(st, m, &r)
		replyRows(st, cv, m, names, &r) // replies.go
		unreadableRow(m, &r)
		patientRow(m, r.Sender, &r) // patient.go
		auto := autoLines(r, cc.clockTime)
		lines, ack := statusRows(r, title, room, cc.clockTime)
		r.Status = append(auto, lines...)
		if slices.Contains(ack, true) {
			r.StatusAck = append(make([]bool, len(auto)), ack...)
		}
		prevDay = day
		out[i] = r
	}
	return out, nil
}

func localDay(t time.Time) time.Time {
	t = t.Local()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.Local)
}

// clockTime is a time as a thread shows it ("14:02"; with the date when
// not today).
func (cc *conversations) clockTime(t time.Time) string { return threadTime(t, cc.clock.Now()) }

// threadTime is t as a thread shows it when the clock says now.
func threadTime(t, now time.Time) string {
	t = t.Local()
	if localDay(t).Equal(localDay(now)) {
		return t.Format("15:04")
	}
	return t.Format("2 Jan 15:04")
}

// FirstUnread is the oldest unread incoming message of conv, for "jump to
// first unread"; false when everything is read.
func (cc *conversations) FirstUnread(conv string) (securestore.MessageID, bool) {
	st, err := cc.host.unlocked()
	if err != nil {
		return 0, false
	}
	conv = jid.Bare(conv)
	cv, err := st.Conversation(conv)
	if err != nil || cv.Unread == 0 {
		return 0, false
	}
	// Unread counts the incoming messages after the read position: the
	// Unread-th incoming message from the end is the first unread.
	left := cv.Unread
	const page = 200
	ms, err := st.Latest(conv, page)
	for err == nil && len(ms) > 0 {
		for i := len(ms) - 1; i >= 0; i-- {
			if ms[i].Direction == securestore.Incoming {
				left--
				if left == 0 {
					return ms[i].ID, true
				}
			}
		}
		ms, err = st.Before(conv, ms[0].ID, page)
	}
	return 0, false
}

// Directory lists the roster by name, filtered by name, JID or group.
func (cc *conversations) Directory(query string) ([]ContactRow, error) {
	st, err := cc.host.unlocked()
	if err != nil {
		return nil, err
	}
	cs, err := st.Contacts()
	if err != nil {
		return nil, mapErr(err)
	}
	names, err := loadContacts(st)
	if err != nil {
		return nil, mapErr(err)
	}
	cards := sync.Profiles(st)
	q := strings.ToLower(strings.TrimSpace(query))
	out := make([]ContactRow, 0, len(cs))
	shifts, now := cc.host.schedule(), cc.clock.Now()
	for _, ct := range cs {
		card := cards[ct.JID]
		named := names[ct.JID]
		named.Groups = ct.Groups
		if q != "" && !matchContact(named, q) && !strings.Contains(strings.ToLower(card.Role+" "+card.Unit), q) {
			continue
		}
		row := ContactRow{JID: ct.JID, Name: named.Name, Groups: slices.Clone(ct.Groups),
			Roles: rolesHeld(shifts, strings.ToLower(ct.JID), now),
			Role:  card.Role, Unit: card.Unit, Phone: card.Phone, Claimed: strings.TrimSpace(ct.Name) == "" && card.Name != ""}
		if row.Name == "" {
			row.Name = localPart(ct.JID)
		}
		row.Avatar = cc.host.avatarOf(st, row.Name, ct.JID)
		row.Presence, row.Status = cc.host.presenceOf(ct.JID)
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b ContactRow) int {
		if r := cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); r != 0 {
			return r
		}
		return cmp.Compare(a.JID, b.JID)
	})
	return out, nil
}

func matchContact(ct securestore.Contact, q string) bool {
	if strings.Contains(strings.ToLower(ct.Name), q) || strings.Contains(strings.ToLower(ct.JID), q) {
		return true
	}
	for _, g := range ct.Groups {
		if strings.Contains(strings.ToLower(g), q) {
			return true
		}
	}
	return false
}

// clinicalRow fills a row's clinical fields from the message's stored
// extras: acknowledgement, responses, recall, correction, escalation.
func (cc *conversations) clinicalRow(st *securestore.Store, cv securestore.Conversation, m securestore.Message, names contactNames, r *MessageRow) {
	r.AckRequired = ackRequired(m)
	r.Marks = MessageMarks{Order: m.Extra[extraOrder] == "1", Role: m.Extra[extraRole]}
	if r.Outgoing && r.AckRequired {
		st := m.Receipt.State
		for _, rc := range m.Members {
			st = max(st, rc.State)
		}
		// A decline in a chat stopped the recipient's device alerting (the
		// ladder goes on); in a room the others' devices still alert.
		r.Alerting = (st == securestore.ReceiptDelivered || st == securestore.ReceiptRead) && !acknowledged(m) &&
			!(cv.Kind == securestore.KindChat && declined(m))
	}
	r.Responses = responseRows(st, cv, m, names)
	r.Response = ResponseKind(m.Extra[extraResponse])
	if r.Response == "" && m.Extra[extraResponseTo] != "" {
		r.Response = ResponseText
	}
	if t := recalledAt(m); !t.IsZero() {
		r.Recalled = t
		r.Body = cc.tombstone(t)
		r.Responses = nil
	}
	if t := extraTime(m.Extra[extraCorrected]); !t.IsZero() {
		r.Corrected, r.CorrectedAt = true, t
	}
	if m.Extra[extraLadder] != "" || r.AckRequired && r.Outgoing {
		r.Escalation = cc.clin.escalationView(st, m, names)
	}
	if m.Extra[extraEscalationOf] != "" {
		r.EscalationStep, _ = strconv.Atoi(m.Extra[extraEscalStep])
		r.Notice = !r.AckRequired && m.Urgency == securestore.UrgencyNormal
	}
	if m.Extra[sync.ExtraWipe] != "" && !r.Outgoing {
		// A directive from an administrator wipes the device before anyone
		// reads it here; one still on screen did not (it came from someone
		// else, or is waiting for the policy to say who the administrators
		// are). Its fallback text, "your administrator has wiped this
		// device", would then be false, so the row says what happened.
		r.Notice = true
		r.Body = "Remote-wipe request from " + r.Sender + " ignored: only the hospital's administrators can wipe this device."
	}
}
