package app

import (
	"strings"
	"time"
)

// The lines under a message (MessageRow.Status) are decided here, once, so
// every screen draws the same words: whom a message to a role reached, the
// sender's live view of an acknowledgement, the quick responses with their
// times, and the escalation ladder's state.

// roleLine says a message went to a role: on the sender's side whom it
// reached (the chat's peer), on the recipient's that it came to them as
// the role holder.
func roleLine(r MessageRow, peer string) string {
	mk := r.Marks
	if mk.Role == "" || !r.Recalled.IsZero() || r.Notice {
		return ""
	}
	if r.Outgoing {
		return "To " + mk.Role + ": reached " + peer
	}
	return "To you as " + mk.Role
}

// ResponseLabel is a quick response as the thread and the message's
// details name it ("Acknowledged", "Call me").
func ResponseLabel(k ResponseKind) string {
	switch k {
	case ResponseAck:
		return "Acknowledged"
	case ResponseDecline:
		return "Declined"
	case ResponseCallMe:
		return "Call me"
	case ResponseFiveMinutes:
		return "5 minutes"
	}
	return "Reply"
}

// responseLine is one quick response under a message: "Declined 14:03",
// "Dr Osei: Call me 14:05" (rooms), "You: Acknowledged 14:04".
func responseLine(r ResponseRow, room bool, clock func(time.Time) string) string {
	s := ResponseLabel(r.Kind) + " " + clock(r.At)
	if t := strings.TrimSpace(r.Text); t != "" {
		s += ": " + Excerpt(t, 60)
	}
	if r.Own || room {
		s = r.From + ": " + s
	}
	return s
}

// Excerpt is the first line of s, at most n characters, with "…" where it
// was cut: how a quoted text is shortened on screen.
func Excerpt(s string, n int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + "…"
	}
	if rs := []rune(s); len(rs) > n {
		s = string(rs[:n-1]) + "…"
	}
	return s
}

// statusLines are the lines drawn under a message's text: for an outgoing
// message that asked for an acknowledgement the sender's live view
// (alerting → read → acknowledged, with times), then each quick response
// with its time, then the escalation ladder's state. peer names the
// recipient of a chat; clock says a time as the thread does. The role line
// (roleLine) comes first.
func statusLines(r MessageRow, peer string, room bool, clock func(time.Time) string) []string {
	lines, _ := statusRows(r, peer, room, clock)
	return lines
}

// statusRows is statusLines with, parallel to the lines, which of them say
// the message was acknowledged (MessageRow.StatusAck): the live view's
// "Acknowledged …" and the peer's acknowledgement among the responses.
func statusRows(r MessageRow, peer string, room bool, clock func(time.Time) string) (out []string, ack []bool) {
	if !r.Recalled.IsZero() || r.Notice {
		return nil, nil
	}
	add := func(line string, acked bool) {
		out, ack = append(out, line), append(ack, acked)
	}
	if l := roleLine(r, peer); l != "" {
		add(l, false)
	}
	acked := false
	headline := -1 // the response the live view's line already names
	if r.Outgoing && r.AckRequired {
		var ackResp *ResponseRow
		for i := range r.Responses {
			if r.Responses[i].Kind == ResponseAck {
				ackResp, headline = &r.Responses[i], i
				break
			}
		}
		rc := r.Receipt
		state := rc.State
		for _, m := range r.Members {
			state = max(state, m.State)
		}
		where := peer + "'s device"
		if room {
			where = "the team's devices"
		}
		switch {
		case ackResp != nil:
			acked = true
			line := "Acknowledged " + clock(ackResp.At) + " by " + ackResp.From
			if ackResp.ByText {
				line += " (by text reply)"
			}
			add(line, true)
		case state == ReceiptAcknowledged:
			acked = true
			add("Acknowledged "+clock(receiptTime(r, ReceiptAcknowledged)), true)
		case state == ReceiptRead:
			add("Read "+clock(receiptTime(r, ReceiptRead))+" · alerting until acknowledged", false)
		case state == ReceiptDelivered || r.Alerting:
			add("Alerting on "+where+" since "+clock(receiptTime(r, ReceiptDelivered)), false)
		case state == ReceiptFailed:
			add("Not delivered: nobody is alerted", false)
		default:
			add("Not yet delivered · acknowledgement required", false)
		}
	}
	for i, resp := range r.Responses {
		if i == headline {
			continue // already the live view's line
		}
		// The peer's own acknowledgement stands out; in a room, and for
		// the user's own, the line leads with who answered.
		add(responseLine(resp, room, clock), resp.Kind == ResponseAck && !resp.Own && !room)
	}
	if e := r.Escalation; e != nil && r.Outgoing {
		switch {
		case e.Active && !e.NextAt.IsZero() && !acked:
			add("Escalates at "+clock(e.NextAt)+" unless acknowledged", false)
		case e.Exhausted && e.EndedAt.IsZero():
			add("Escalation ended: nobody acknowledged", false)
		}
		// Who runs the ladder: the hospital's escalation service (it pages
		// with this device off), or this device after the service fell
		// silent (the watchdog, escalation.go).
		switch {
		case !e.Active || acked:
		case e.HeldByService:
			add(LineHeldByService, false)
		case e.TakenBack:
			add(LineTakenBack, false)
		}
	}
	return out, ack
}

// The escalation status lines that say who runs a ladder.
const (
	LineHeldByService = "Held by the escalation service"
	LineTakenBack     = "Escalation service silent: this device escalates"
)

// receiptTime is when r (or, in a room, its first member) reached s.
func receiptTime(r MessageRow, s ReceiptState) time.Time {
	if t := r.Receipt.At[s]; !t.IsZero() {
		return t
	}
	var first time.Time
	for _, m := range r.Members {
		if t := m.At[s]; !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	if first.IsZero() {
		return r.Timestamp
	}
	return first
}
