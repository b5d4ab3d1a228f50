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
	"log/slog"
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

// broadcastBook is the broadcasts service: sending one, the records that
// link its messages, and the views and export of them. Its own lock mu
// serialises changes to the records and is held only around reading and
// writing them in the store, never while calling the host; Client.mu is
// never held when it is taken. It reaches the rest of the Client only
// through broadcastHost. Client's facades are broadcasthost.go.
type broadcastBook struct {
	mu    gosync.Mutex
	log   *slog.Logger
	clock Clock
	host  broadcastHost
}

// broadcastHost is what broadcasts ask of the rest of the Client. Every
// method may take Client.mu.
type broadcastHost interface {
	// The session (client.go, headless.go): the open store, the account,
	// whether this is a command-line run and its store.
	unlocked() (*securestore.Store, error)
	Account() string
	isHeadless() bool
	headlessSess() (*securestore.Store, *sync.Session, *headlessRun, error)
	// Policy and on-call (policy.go, oncall.go, headlesssend.go): the
	// schedule in force, the one published now, the level names.
	schedule() []Shift
	PublishedSchedule(ctx context.Context) ([]Shift, error)
	effectivePolicy() Policy
	// Sending one recipient's message (clinicalhost.go, headlesssend.go).
	SendClinical(to, text string, o ClinicalOptions) (Sent, error)
	SendPage(conv, body string, o PageOptions) (MessageID, error)
	// The audit log (audit.go).
	audit(kind, detail string)
	auditWith(st *securestore.Store, kind, detail string)
}

// clockTime is a time as a thread shows it (conversations.clockTime).
func (b *broadcastBook) clockTime(t time.Time) string { return threadTime(t, b.clock.Now()) }

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

// send is Client.SendBroadcast.
func (b *broadcastBook) send(to []string, role, text string, o ClinicalOptions) (BroadcastView, error) {
	st, err := b.host.unlocked()
	if err != nil {
		return BroadcastView{}, err
	}
	if strings.TrimSpace(text) == "" {
		return BroadcastView{}, ErrEmptyMessage
	}
	people, err := b.recipients(to, role, b.host.schedule())
	if err != nil {
		return BroadcastView{}, err
	}
	return b.sendTo(st, people, role, text, o)
}

// sendHeadless is Client.SendHeadlessBroadcast.
func (b *broadcastBook) sendHeadless(ctx context.Context, to []string, role, text string, o PageOptions) (BroadcastView, error) {
	st, _, _, err := b.host.headlessSess()
	if err != nil {
		return BroadcastView{}, err
	}
	if strings.TrimSpace(text) == "" {
		return BroadcastView{}, ErrEmptyMessage
	}
	var shifts []Shift
	if strings.TrimSpace(role) != "" {
		if shifts, err = b.host.PublishedSchedule(ctx); err != nil {
			return BroadcastView{}, err
		}
	}
	people, err := b.recipients(to, role, shifts)
	if err != nil {
		return BroadcastView{}, err
	}
	return b.sendTo(st, people, role, text, ClinicalOptions{Urgency: o.Urgency, AckRequired: o.AckRequired, Order: o.Order})
}

// sendTo records the broadcast, then sends each message.
func (b *broadcastBook) sendTo(st *securestore.Store, people []string, role, text string, o ClinicalOptions) (BroadcastView, error) {
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	rec := broadcastRecord{ID: "b-" + hex.EncodeToString(raw[:]), At: b.clock.Now().UTC(), Role: strings.TrimSpace(role),
		Urgency: o.Urgency, Ack: asksAck(o.Urgency, o.AckRequired)}
	for _, p := range people {
		rec.To = append(rec.To, broadcastSent{JID: p})
	}
	if err := b.save(st, rec); err != nil {
		return BroadcastView{}, err
	}
	// Who a role group resolved to is known only now (the schedule moves
	// on); it is audited before the first message goes, so a broadcast cut
	// short by a crash is still on record with everyone it was meant for.
	whom := fmt.Sprintf("broadcast %s to %d people", rec.ID, len(people))
	if rec.Role != "" {
		whom += " holding " + rec.Role + " now"
	}
	b.host.auditWith(st, AuditBroadcast, whom+": "+strings.Join(people, ", "))
	o.Role, o.ReplyTo = "", 0
	var ids []string
	for i, p := range people {
		var id MessageID
		var err error
		if b.host.isHeadless() {
			id, err = b.host.SendPage(p, text, PageOptions{Urgency: o.Urgency, AckRequired: o.AckRequired, Order: o.Order})
		} else {
			var sent Sent
			sent, err = b.host.SendClinical(p, text, o)
			id = sent.ID
		}
		if err != nil {
			rec.To[i].Error = err.Error()
		} else {
			rec.To[i].Message = id
			ids = append(ids, strconv.FormatUint(uint64(id), 10))
		}
		if err := b.save(st, rec); err != nil {
			b.log.Warn("app: broadcast record not updated", "err", err)
		}
	}
	detail := fmt.Sprintf("broadcast %s to %d people", rec.ID, len(people))
	if rec.Role != "" {
		detail += " holding " + rec.Role
	}
	b.host.audit(AuditBroadcast, detail+": messages "+strings.Join(ids, ", "))
	return b.one(rec.ID)
}

// recipients is the list and the role group, each once, checked,
// without the user.
func (b *broadcastBook) recipients(to []string, role string, shifts []Shift) ([]string, error) {
	self := jid.Bare(b.host.Account())
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
		holders, err := roleGroup(shifts, role, b.clock.Now())
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
// what save writes: an id "b-" and 16 hex digits, at most
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

// save stores rec, replacing the record with its id, and keeps
// the latest maxBroadcastsKept.
func (b *broadcastBook) save(st *securestore.Store, rec broadcastRecord) error {
	b.mu.Lock()
	defer b.mu.Unlock()
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

// list is Client.Broadcasts.
func (b *broadcastBook) list() ([]BroadcastView, error) {
	st, err := b.host.unlocked()
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
		out = append(out, b.view(st, recs[i], names))
	}
	return out, nil
}

// one is Client.Broadcast.
func (b *broadcastBook) one(id string) (BroadcastView, error) {
	st, err := b.host.unlocked()
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
	return b.view(st, recs[i], names), nil
}

func (b *broadcastBook) view(st *securestore.Store, rec broadcastRecord, names contactNames) BroadcastView {
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
			r.State = b.state(m.Receipt, rec.Ack)
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

// state is a recipient's receipt in words with its time.
func (b *broadcastBook) state(r securestore.Receipt, ack bool) string {
	at := func(s securestore.ReceiptState) string {
		if t := r.At[s]; !t.IsZero() {
			return " " + b.clockTime(t)
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

// export is Client.ExportBroadcast.
func (b *broadcastBook) export(w io.Writer, id string) error {
	st, err := b.host.unlocked()
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
	levels := b.host.effectivePolicy().Levels
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
