package app

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// Broadcast: one text to a list of people or to everyone holding an
// on-call role now. Each recipient gets a normal message of their own
// (their own conversation, receipts, alert and ladder when urgent), so a
// client without Rounds reads a plain message and an acknowledgement is
// one person's, never the group's. The messages are linked only here, by a
// broadcast id in a record sealed in the store's settings (no wire
// element): the sender's broadcast view lists each recipient's state from
// their message's receipt, and exports it.

// MaxBroadcastRecipients bounds one broadcast.
const MaxBroadcastRecipients = 200

// maxBroadcastsKept: the sender's list keeps the latest broadcasts.
const maxBroadcastsKept = 200

// settingBroadcasts holds the broadcast records (JSON, newest last).
const settingBroadcasts = "broadcasts"

// AuditBroadcast is the audit kind of a broadcast sent (ids only).
const AuditBroadcast = "message.broadcast"

// ErrNoRecipients: a broadcast names nobody (after leaving out the user).
var ErrNoRecipients = errors.New("a broadcast needs at least one recipient other than you")

// ErrTooManyRecipients: more than MaxBroadcastRecipients.
var ErrTooManyRecipients = fmt.Errorf("a broadcast reaches at most %d people", MaxBroadcastRecipients)

// ErrNoBroadcast: no broadcast with that id on this device.
var ErrNoBroadcast = errors.New("no such broadcast on this device")

// broadcastBook serialises changes to the records.
type broadcastBook struct{ mu gosync.Mutex }

type broadcastRecord struct {
	ID      string          `json:"id"`
	At      time.Time       `json:"at"`
	Role    string          `json:"role,omitempty"`
	Urgency Urgency         `json:"urgency"`
	Ack     bool            `json:"ack,omitempty"`
	To      []broadcastSent `json:"to"`
}

type broadcastSent struct {
	JID     string    `json:"jid"`
	Message MessageID `json:"message,omitempty"`
	Error   string    `json:"error,omitempty"` // why it was not sent
}

// BroadcastView is one broadcast as the sender's view lists it.
type BroadcastView struct {
	ID          string
	At          time.Time
	Role        string // the role group it went to ("" for a list)
	Urgency     Urgency
	AckRequired bool
	Preview     string // the text's first line, from the first message
	Recipients  []BroadcastRecipient
	// Summary counts the states: "3 people · 1 acknowledged · 1 read · 1 sent".
	Summary string
}

// BroadcastRecipient is one recipient's state.
type BroadcastRecipient struct {
	JID, Name string
	Message   MessageID // 0 when it could not be sent
	Receipt   securestore.Receipt
	// State says it in words with its time: "Acknowledged 14:05", "Read
	// 14:03", "Sent 14:01 · not delivered yet", "Not sent: …".
	State string
}

// SendBroadcast sends text to each of to and, when role is set, to
// everyone holding role now (the on-call schedule; each shift's holder, or
// its backup when it names none). The user is left out; each recipient
// gets their own message at o's urgency. One recipient refused (an order
// to someone not allowed orders) does not stop the others: the view says
// why. The broadcast is recorded before the first message is sent.
func (c *Client) SendBroadcast(to []string, role, text string, o ClinicalOptions) (BroadcastView, error) {
	st, err := c.unlocked()
	if err != nil {
		return BroadcastView{}, err
	}
	if strings.TrimSpace(text) == "" {
		return BroadcastView{}, ErrEmptyMessage
	}
	people, err := c.broadcastRecipients(to, role, c.schedule())
	if err != nil {
		return BroadcastView{}, err
	}
	return c.sendBroadcast(st, people, role, text, o)
}

// SendHeadlessBroadcast is SendBroadcast for the headless sender: a role
// group is resolved from the on-call schedule published now.
func (c *Client) SendHeadlessBroadcast(ctx context.Context, to []string, role, text string, o PageOptions) (BroadcastView, error) {
	st, _, _, err := c.headlessSess()
	if err != nil {
		return BroadcastView{}, err
	}
	if strings.TrimSpace(text) == "" {
		return BroadcastView{}, ErrEmptyMessage
	}
	var shifts []Shift
	if strings.TrimSpace(role) != "" {
		if shifts, err = c.PublishedSchedule(ctx); err != nil {
			return BroadcastView{}, err
		}
	}
	people, err := c.broadcastRecipients(to, role, shifts)
	if err != nil {
		return BroadcastView{}, err
	}
	return c.sendBroadcast(st, people, role, text, ClinicalOptions{Urgency: o.Urgency, AckRequired: o.AckRequired, Order: o.Order})
}

// sendBroadcast records the broadcast, then sends each message.
func (c *Client) sendBroadcast(st *securestore.Store, people []string, role, text string, o ClinicalOptions) (BroadcastView, error) {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	rec := broadcastRecord{ID: "b-" + hex.EncodeToString(raw[:]), At: c.cfg.Clock.Now().UTC(), Role: strings.TrimSpace(role),
		Urgency: o.Urgency, Ack: asksAck(o.Urgency, o.AckRequired)}
	for _, p := range people {
		rec.To = append(rec.To, broadcastSent{JID: p})
	}
	if err := c.saveBroadcast(st, rec); err != nil {
		return BroadcastView{}, err
	}
	// Who a role group resolved to is known only now (the schedule moves
	// on); it is audited before the first message goes, so a broadcast cut
	// short by a crash is still on record with everyone it was meant for.
	whom := fmt.Sprintf("broadcast %s to %d people", rec.ID, len(people))
	if rec.Role != "" {
		whom += " holding " + rec.Role + " now"
	}
	c.auditWith(st, AuditBroadcast, whom+": "+strings.Join(people, ", "))
	o.Role, o.ReplyTo = "", 0
	var ids []string
	for i, p := range people {
		var id MessageID
		var err error
		if c.headless != nil {
			id, err = c.SendPage(p, text, PageOptions{Urgency: o.Urgency, AckRequired: o.AckRequired, Order: o.Order})
		} else {
			var sent Sent
			sent, err = c.SendClinical(p, text, o)
			id = sent.ID
		}
		if err != nil {
			rec.To[i].Error = err.Error()
		} else {
			rec.To[i].Message = id
			ids = append(ids, strconv.FormatUint(uint64(id), 10))
		}
		if err := c.saveBroadcast(st, rec); err != nil {
			c.log.Warn("app: broadcast record not updated", "err", err)
		}
	}
	detail := fmt.Sprintf("broadcast %s to %d people", rec.ID, len(people))
	if rec.Role != "" {
		detail += " holding " + rec.Role
	}
	c.audit(AuditBroadcast, detail+": messages "+strings.Join(ids, ", "))
	return c.Broadcast(rec.ID)
}

// broadcastRecipients is the list and the role group, each once, checked,
// without the user.
func (c *Client) broadcastRecipients(to []string, role string, shifts []Shift) ([]string, error) {
	self := jid.Bare(c.Account())
	var out []string
	add := func(a string) error {
		j, err := chatJID(a)
		if err != nil {
			return err
		}
		if j != self && !slices.Contains(out, j) {
			out = append(out, j)
		}
		return nil
	}
	for _, a := range to {
		if strings.TrimSpace(a) == "" {
			continue
		}
		if err := add(a); err != nil {
			return nil, err
		}
	}
	if role = strings.TrimSpace(role); role != "" {
		holders, err := roleGroup(shifts, role, c.cfg.Clock.Now())
		if err != nil {
			return nil, err
		}
		for _, h := range holders {
			if err := add(h); err != nil {
				return nil, err
			}
		}
	}
	switch {
	case len(out) == 0:
		return nil, ErrNoRecipients
	case len(out) > MaxBroadcastRecipients:
		return nil, ErrTooManyRecipients
	}
	return out, nil
}

// roleGroup is everyone holding role at now: the holder of each shift of
// the role that runs then, or its backup when it names no holder.
func roleGroup(shifts []Shift, role string, now time.Time) ([]string, error) {
	known := false
	var out []string
	for _, s := range shifts {
		if !sameRole(s.Role, role) {
			continue
		}
		known = true
		if !s.covers(now) {
			continue
		}
		who := s.JID
		if who == "" {
			who = s.Backup
		}
		if who != "" && !slices.Contains(out, jid.Bare(who)) {
			out = append(out, jid.Bare(who))
		}
	}
	switch {
	case !known:
		return nil, &roleNotInScheduleError{role: role}
	case len(out) == 0:
		return nil, fmt.Errorf("%w: no one is on call as %q at %s", ErrRoleUnstaffed, role, now.Local().Format("Mon 15:04"))
	}
	return out, nil
}

func loadBroadcasts(st *securestore.Store) ([]broadcastRecord, error) {
	raw, err := st.Setting(settingBroadcasts)
	if errors.Is(err, securestore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseBroadcasts(raw)
}

// errBroadcastRecords: the stored records do not read; they are left as
// they are (nothing is sent as a broadcast until they do).
var errBroadcastRecords = errors.New("the broadcast records on this device do not read")

// parseBroadcasts reads the stored records, refusing any that is not
// what saveBroadcast writes: an id "b-" and 16 hex digits, at most
// maxBroadcastsKept records of at most MaxBroadcastRecipients bare
// addresses each, an urgency Rounds knows.
func parseBroadcasts(raw []byte) ([]broadcastRecord, error) {
	var recs []broadcastRecord
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, fmt.Errorf("%w: %v", errBroadcastRecords, err)
	}
	if len(recs) > maxBroadcastsKept {
		return nil, fmt.Errorf("%w: %d records", errBroadcastRecords, len(recs))
	}
	for _, r := range recs {
		id, ok := strings.CutPrefix(r.ID, "b-")
		if _, err := hex.DecodeString(id); !ok || len(id) != 16 || err != nil {
			return nil, fmt.Errorf("%w: a record's id is not one Rounds writes", errBroadcastRecords)
		}
		if len(r.To) == 0 || len(r.To) > MaxBroadcastRecipients || r.Urgency > securestore.UrgencyCritical || len(r.Role) > 200 {
			return nil, fmt.Errorf("%w: record %s", errBroadcastRecords, r.ID)
		}
		for _, t := range r.To {
			if j, err := chatJID(t.JID); err != nil || j != t.JID || len(t.Error) > 1000 {
				return nil, fmt.Errorf("%w: record %s names no address", errBroadcastRecords, r.ID)
			}
		}
	}
	return recs, nil
}

// saveBroadcast stores rec, replacing the record with its id, and keeps
// the latest maxBroadcastsKept.
func (c *Client) saveBroadcast(st *securestore.Store, rec broadcastRecord) error {
	c.broadcasts.mu.Lock()
	defer c.broadcasts.mu.Unlock()
	recs, err := loadBroadcasts(st)
	if err != nil {
		return mapErr(err)
	}
	if i := slices.IndexFunc(recs, func(r broadcastRecord) bool { return r.ID == rec.ID }); i >= 0 {
		recs[i] = rec
	} else {
		recs = append(recs, rec)
	}
	if len(recs) > maxBroadcastsKept {
		recs = recs[len(recs)-maxBroadcastsKept:]
	}
	raw, err := json.Marshal(recs)
	if err != nil {
		return err
	}
	return mapErr(st.SetSetting(settingBroadcasts, raw))
}

// Broadcasts lists the user's broadcasts on this device, newest first.
func (c *Client) Broadcasts() ([]BroadcastView, error) {
	st, err := c.unlocked()
	if err != nil {
		return nil, err
	}
	recs, err := loadBroadcasts(st)
	if err != nil {
		return nil, mapErr(err)
	}
	names, _ := loadContacts(st)
	out := make([]BroadcastView, 0, len(recs))
	for i := len(recs) - 1; i >= 0; i-- {
		out = append(out, c.broadcastView(st, recs[i], names))
	}
	return out, nil
}

// Broadcast is one broadcast with each recipient's state now.
func (c *Client) Broadcast(id string) (BroadcastView, error) {
	st, err := c.unlocked()
	if err != nil {
		return BroadcastView{}, err
	}
	recs, err := loadBroadcasts(st)
	if err != nil {
		return BroadcastView{}, mapErr(err)
	}
	i := slices.IndexFunc(recs, func(r broadcastRecord) bool { return r.ID == id })
	if i < 0 {
		return BroadcastView{}, ErrNoBroadcast
	}
	names, _ := loadContacts(st)
	return c.broadcastView(st, recs[i], names), nil
}

func (c *Client) broadcastView(st *securestore.Store, rec broadcastRecord, names contactNames) BroadcastView {
	v := BroadcastView{ID: rec.ID, At: rec.At, Role: rec.Role, Urgency: rec.Urgency, AckRequired: rec.Ack}
	counts := map[string]int{}
	for _, t := range rec.To {
		r := BroadcastRecipient{JID: t.JID, Name: memberName(st, t.JID, names), Message: t.Message}
		switch {
		case t.Error != "":
			r.State = "Not sent: " + t.Error
			counts["not sent"]++
		case t.Message == 0:
			r.State = "Not sent yet"
			counts["not sent"]++
		default:
			m, err := st.Message(t.Message)
			if err != nil {
				r.State = "Message no longer on this device"
				counts["gone"]++
				break
			}
			if v.Preview == "" {
				v.Preview = previewText(m.Body)
			}
			r.Receipt = m.Receipt
			r.State = c.broadcastState(m.Receipt, rec.Ack)
			counts[m.Receipt.State.String()]++
		}
		v.Recipients = append(v.Recipients, r)
	}
	people := "people"
	if len(rec.To) == 1 {
		people = "person"
	}
	parts := []string{strconv.Itoa(len(rec.To)) + " " + people}
	for _, k := range []string{"acknowledged", "read", "delivered", "sent", "queued", "failed", "not sent", "gone"} {
		if n := counts[k]; n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+k)
		}
	}
	v.Summary = strings.Join(parts, " · ")
	return v
}

// broadcastState is a recipient's receipt in words with its time.
func (c *Client) broadcastState(r securestore.Receipt, ack bool) string {
	at := func(s securestore.ReceiptState) string {
		if t := r.At[s]; !t.IsZero() {
			return " " + c.clockTime(t)
		}
		return ""
	}
	switch r.State {
	case securestore.ReceiptAcknowledged:
		return "Acknowledged" + at(r.State)
	case securestore.ReceiptRead:
		s := "Read" + at(r.State)
		if ack {
			s += " · not acknowledged"
		}
		return s
	case securestore.ReceiptDelivered:
		return "Delivered" + at(r.State) + " · not read yet"
	case securestore.ReceiptSent:
		return "Sent" + at(r.State) + " · not delivered yet"
	case securestore.ReceiptFailed:
		if r.Reason != "" {
			return "Failed: " + r.Reason
		}
		return "Failed"
	}
	return "Waiting to send"
}

var broadcastCSVHeader = []string{"broadcast_id", "broadcast_time", "role", "urgency", "ack_required", "recipient", "message_id", "origin_id",
	"state", "queued", "sent", "delivered", "read", "acknowledged", "acknowledged_by", "failed", "reason", "not_sent"}

// ExportBroadcast writes broadcast id as CSV: one row per recipient with
// ids, times and states (no message text), and audits the export.
func (c *Client) ExportBroadcast(w io.Writer, id string) error {
	st, err := c.unlocked()
	if err != nil {
		return err
	}
	recs, err := loadBroadcasts(st)
	if err != nil {
		return mapErr(err)
	}
	i := slices.IndexFunc(recs, func(r broadcastRecord) bool { return r.ID == id })
	if i < 0 {
		return ErrNoBroadcast
	}
	rec := recs[i]
	levels := c.effectivePolicy().Levels
	if err := st.Audit(securestore.AuditExport, fmt.Sprintf("broadcast %s exported as csv: %d recipients", rec.ID, len(rec.To))); err != nil {
		return mapErr(err)
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(broadcastCSVHeader); err != nil {
		return err
	}
	for _, t := range rec.To {
		row := []string{rec.ID, ts(rec.At), cell(rec.Role), levels.Name(rec.Urgency), strconv.FormatBool(rec.Ack), cell(t.JID)}
		var x ExportedReceipt
		origin := ""
		if m, err := st.Message(t.Message); t.Message != 0 && err == nil {
			x, origin = exportReceipt(m.Receipt), m.OriginID
			if by := m.Extra[sync.ExtraAckBy]; by != "" && !x.Acknowledged.IsZero() {
				x.AcknowledgedBy = by
			}
		}
		msg := ""
		if t.Message != 0 {
			msg = strconv.FormatUint(uint64(t.Message), 10)
		}
		row = append(row, msg, origin, x.State, ts(x.Queued), ts(x.Sent), ts(x.Delivered), ts(x.Read), ts(x.Acknowledged),
			x.AcknowledgedBy, ts(x.Failed), cell(x.Reason), cell(t.Error))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
