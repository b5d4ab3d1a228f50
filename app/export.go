package app

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// A Joint Commission review of a conversation asks who said what, when, and
// when each message was delivered, read and acknowledged. ExportConversation
// writes exactly that: every stored message of one conversation with every
// receipt state and its time (per member in rooms). The export holds message
// text, so it is PHI: the caller chooses where it goes, and the export is
// audited.

// Stored Extra keys the export reads (the sync engine's, see the clinical
// contract; ack, response-to, response, retracted and corrected too).
const (
	extraOrder = "order"
	extraRole  = "role"
)

// ExportedMessage is one message of a conversation export.
type ExportedMessage struct {
	ID          securestore.MessageID `json:"id"`
	OriginID    string                `json:"origin_id,omitempty"`
	StanzaID    string                `json:"stanza_id,omitempty"`
	Time        time.Time             `json:"time"`
	ReceivedAt  time.Time             `json:"received_at,omitzero"`
	Direction   string                `json:"direction"` // "in" or "out"
	From        string                `json:"from"`
	To          string                `json:"to,omitempty"`
	Sender      string                `json:"sender"`
	Body        string                `json:"body"`
	Urgency     string                `json:"urgency"`
	AckRequired bool                  `json:"ack_required,omitempty"`
	Order       bool                  `json:"order,omitempty"`
	Role        string                `json:"role,omitempty"`
	ResponseTo  string                `json:"response_to,omitempty"`
	Response    string                `json:"response,omitempty"`
	Retracted   string                `json:"retracted,omitempty"`
	Corrected   string                `json:"corrected,omitempty"`
	// Unreadable is why the engine could not read the message
	// (sync.ExtraUnreadable: too-large, too-deep, …); Body then says so in
	// words, as the conversation does: a reviewer must see that a message
	// existed, from whom, and that its text was never received.
	Unreadable string `json:"unreadable,omitempty"`
	// Patient is the patient the sender tagged the message with, as
	// they claimed it (patient.go).
	Patient *ExportedPatient `json:"patient,omitempty"`
	Receipt ExportedReceipt  `json:"receipt"`
	// Members holds per-member receipts in rooms, by member bare JID or nick.
	Members map[string]ExportedReceipt `json:"members,omitempty"`
}

// ExportedPatient is a message's patient tag in an export: the sender's
// claim, as sent.
type ExportedPatient struct {
	MRN  string `json:"mrn"`
	Name string `json:"name,omitempty"`
	Bed  string `json:"bed,omitempty"`
}

// ExportedReceipt is a receipt with every state's time (zero: not reached).
type ExportedReceipt struct {
	State        string    `json:"state"`
	Queued       time.Time `json:"queued,omitzero"`
	Sent         time.Time `json:"sent,omitzero"`
	Delivered    time.Time `json:"delivered,omitzero"`
	Read         time.Time `json:"read,omitzero"`
	Acknowledged time.Time `json:"acknowledged,omitzero"`
	// AcknowledgedBy says how an acknowledgement was given when it was not a
	// Rounds acknowledgement: "text reply" (a plain-text reply from a client
	// without Rounds, docs/PROTOCOL.md).
	AcknowledgedBy string    `json:"acknowledged_by,omitempty"`
	Failed         time.Time `json:"failed,omitzero"`
	Reason         string    `json:"reason,omitempty"`
}

func exportReceipt(r securestore.Receipt) ExportedReceipt {
	u := func(s securestore.ReceiptState) time.Time {
		if t := r.At[s]; !t.IsZero() {
			return t.UTC()
		}
		return time.Time{}
	}
	return ExportedReceipt{State: r.State.String(), Queued: u(securestore.ReceiptQueued), Sent: u(securestore.ReceiptSent),
		Delivered: u(securestore.ReceiptDelivered), Read: u(securestore.ReceiptRead),
		Acknowledged: u(securestore.ReceiptAcknowledged), Failed: u(securestore.ReceiptFailed), Reason: r.Reason}
}

type conversationExport struct {
	Format       string            `json:"format"`
	Account      string            `json:"account"`
	Conversation string            `json:"conversation"`
	Title        string            `json:"title"`
	IsRoom       bool              `json:"is_room"`
	Exported     time.Time         `json:"exported"`
	Messages     []ExportedMessage `json:"messages"`
}

// exportPage is how many messages are read from the store at a time.
const exportPage = 500

// conversationMessages reads every stored message of conv, oldest first.
func conversationMessages(st *securestore.Store, conv string) ([]securestore.Message, error) {
	ms, err := st.Latest(conv, exportPage)
	if err != nil {
		return nil, err
	}
	all := ms
	for len(ms) == exportPage {
		ms, err = st.Before(conv, ms[0].ID, exportPage)
		if err != nil {
			return nil, err
		}
		all = append(slices.Clone(ms), all...)
	}
	return all, nil
}

// ExportConversation writes every stored message of conv with its receipt
// states and times to w, as format "json" or "csv", and audits the export.
// Times are UTC, RFC 3339.
func (c *Client) ExportConversation(w io.Writer, conv, format string) error {
	return c.trail.exportConversation(w, conv, format)
}

// exportConversation is Client.ExportConversation.
func (a *auditTrail) exportConversation(w io.Writer, conv, format string) error {
	if format != "json" && format != "csv" {
		return ErrExportFormat
	}
	conv = jid.Bare(strings.TrimSpace(conv))
	st, err := a.door.unlocked()
	if err != nil {
		return err
	}
	cv, err := st.Conversation(conv)
	if err != nil {
		if errors.Is(err, securestore.ErrNotFound) {
			return fmt.Errorf("no conversation %q on this device: %w", conv, err)
		}
		return mapErr(err)
	}
	ms, err := conversationMessages(st, conv)
	if err != nil {
		return mapErr(err)
	}
	names, err := loadContacts(st)
	if err != nil {
		return mapErr(err)
	}
	levels := a.door.Policy().Levels
	x := conversationExport{Format: "rounds-conversation/1", Account: a.door.Account(), Conversation: conv,
		Title: conversationTitle(st, cv, names), IsRoom: cv.Kind == securestore.KindRoom,
		Exported: a.clock.Now().UTC(), Messages: make([]ExportedMessage, len(ms))}
	for i, m := range ms {
		e := ExportedMessage{ID: m.ID, OriginID: m.OriginID, StanzaID: m.StanzaID, Time: m.Timestamp.UTC(),
			From: m.From, To: m.To, Sender: senderName(st, cv, m, names), Body: exportBody(st, m),
			Urgency: levels.Name(m.Urgency), AckRequired: m.Extra["ack"] == "required",
			Order: m.Extra[extraOrder] == "1", Role: m.Extra[extraRole],
			ResponseTo: m.Extra["response-to"], Response: m.Extra["response"],
			Retracted: m.Extra["retracted"], Corrected: m.Extra["corrected"],
			Receipt: exportReceipt(m.Receipt)}
		if t := unreadableText(m, e.Sender); t != "" {
			e.Body, e.Unreadable = t, m.Extra[sync.ExtraUnreadable]
		}
		if p := sync.PatientOf(m); p != nil {
			e.Patient = &ExportedPatient{MRN: p.MRN, Name: p.Name, Bed: p.Bed}
		}
		if by := m.Extra[sync.ExtraAckBy]; by != "" && !e.Receipt.Acknowledged.IsZero() {
			e.Receipt.AcknowledgedBy = by
		}
		if of := m.Extra[sync.ExtraTextAckOf]; of != "" && e.Response == "" {
			// A plain-text reply the engine counted as the acknowledgement.
			e.ResponseTo, e.Response = of, "ack (text reply)"
		}
		if !m.ReceivedAt.IsZero() {
			e.ReceivedAt = m.ReceivedAt.UTC()
		}
		e.Direction = "in"
		if m.Direction == securestore.Outgoing {
			e.Direction = "out"
			e.Sender = a.door.Account()
		}
		if len(m.Members) > 0 {
			e.Members = make(map[string]ExportedReceipt, len(m.Members))
			for k, r := range m.Members {
				e.Members[k] = exportReceipt(r)
			}
		}
		x.Messages[i] = e
	}
	// Audited before the bytes leave: an export that fails half-way was still
	// attempted, and the reviewer should see that.
	if err := st.Audit(securestore.AuditExport, fmt.Sprintf("conversation %s exported as %s: %d messages", conv, format, len(ms))); err != nil {
		return mapErr(err)
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(x)
	}
	return writeConversationCSV(w, x)
}

var conversationCSVHeader = []string{"conversation", "message_id", "origin_id", "time", "direction", "from", "sender", "member",
	"body", "urgency", "ack_required", "order", "role", "response_to", "response", "retracted", "corrected",
	"state", "queued", "sent", "delivered", "read", "acknowledged", "acknowledged_by", "failed", "reason",
	"patient_mrn", "patient_name", "patient_bed"}

// writeConversationCSV writes one row per message and, in rooms, one more
// row per member with that member's receipt (member column set, body empty).
func writeConversationCSV(w io.Writer, x conversationExport) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(conversationCSVHeader); err != nil {
		return err
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.RFC3339Nano)
	}
	row := func(m ExportedMessage, member, body string, r ExportedReceipt) []string {
		out := []string{x.Conversation, strconv.FormatUint(uint64(m.ID), 10), m.OriginID, ts(m.Time), m.Direction,
			cell(m.From), cell(m.Sender), cell(member), cell(body), m.Urgency, strconv.FormatBool(m.AckRequired),
			strconv.FormatBool(m.Order), cell(m.Role), m.ResponseTo, m.Response, m.Retracted, m.Corrected,
			r.State, ts(r.Queued), ts(r.Sent), ts(r.Delivered), ts(r.Read), ts(r.Acknowledged), r.AcknowledgedBy, ts(r.Failed), cell(r.Reason),
			"", "", ""}
		if p := m.Patient; p != nil && member == "" {
			copy(out[len(out)-3:], []string{cell(p.MRN), cell(p.Name), cell(p.Bed)})
		}
		return out
	}
	for _, m := range x.Messages {
		if err := cw.Write(row(m, "", m.Body, m.Receipt)); err != nil {
			return err
		}
		members := make([]string, 0, len(m.Members))
		for k := range m.Members {
			members = append(members, k)
		}
		slices.Sort(members)
		for _, k := range members {
			if err := cw.Write(row(m, k, "", m.Members[k])); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell keeps a spreadsheet from evaluating untrusted text (a message body or
// a nick starting with =, +, -, @) as a formula: such cells get a leading
// apostrophe, which spreadsheets hide and never evaluate.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportBody is the text an export gives for m. The body of a message that
// shares a file is its aesgcm:// link, whose fragment is the file's key: with
// it, anyone holding the export could fetch and decrypt the file from the
// server. So a file is described instead ("[file: Potassium result.pdf,
// application/pdf, 82 KB]"), and any other aesgcm:// link in a text loses
// its fragment. The key stays in the encrypted store.
func exportBody(st *securestore.Store, m securestore.Message) string {
	if m.Extra[sync.ExtraAttachment] == "" && m.Extra[sync.ExtraAttachmentURL] == "" {
		return withoutFileKeys(m.Body)
	}
	atts, err := st.Attachments(m.ID)
	if err != nil || len(atts) == 0 {
		name := "file"
		if n, ok := sync.SharedFileName(m.Extra[sync.ExtraAttachmentURL]); ok {
			name = n
		}
		return "[file: " + name + "]"
	}
	parts := make([]string, len(atts))
	for i, a := range atts {
		r := attachmentRow(st, a)
		parts[i] = "[file: " + r.Name + ", " + r.MIME
		if r.Size > 0 {
			parts[i] += ", " + FormatSize(r.Size)
		}
		if r.Unencrypted {
			parts[i] += ", not encrypted"
		}
		parts[i] += "]"
	}
	return strings.Join(parts, " ")
}
