package app

import (
	"strings"
	"testing"
	"time"
)

// statusNow is the thread's "now" in these tests: 14:30 local.
var statusNow = time.Date(2025, 3, 12, 14, 30, 0, 0, time.Local)

// statusClock says times as Client.clockTime does with the clock at statusNow.
func statusClock(t time.Time) string {
	t = t.Local()
	if localDay(t).Equal(localDay(statusNow)) {
		return t.Format("15:04")
	}
	return t.Format("2 Jan 15:04")
}

// TestStatusLinesLiveView follows an ack-required message through its
// states as the sender sees it: not delivered, alerting, read, declined,
// call me, acknowledged (and no longer "alerting").
func TestStatusLinesLiveView(t *testing.T) {
	t0 := statusNow.Add(-28 * time.Minute) // 14:02
	r := MessageRow{ID: 40, Outgoing: true, Sender: "You", Body: "Bed 12 K+ 6.8", Timestamp: t0,
		Urgency: UrgencyCritical, AckRequired: true}
	set := func(state ReceiptState, at time.Time) {
		r.Receipt.State = state
		r.Receipt.At[state] = at
	}
	check := func(want string) {
		t.Helper()
		lines := strings.Join(statusLines(r, "Dr Osei", false, statusClock), "\n")
		if !strings.Contains(lines, want) {
			t.Fatalf("status %q lacks %q", lines, want)
		}
	}
	set(ReceiptSent, t0)
	check("Not yet delivered · acknowledgement required")
	set(ReceiptDelivered, t0)
	r.Alerting = true
	check("Alerting on Dr Osei's device since 14:02")
	set(ReceiptRead, t0.Add(time.Minute))
	check("Read 14:03 · alerting until acknowledged")
	r.Responses = append(r.Responses, ResponseRow{From: "Dr Osei", Kind: ResponseDecline, Text: "in theatre", At: t0.Add(time.Minute)})
	check("Declined 14:03: in theatre")
	r.Responses = append(r.Responses, ResponseRow{From: "Dr Osei", Kind: ResponseCallMe, At: t0.Add(3 * time.Minute)})
	check("Call me 14:05")
	r.Alerting = false
	set(ReceiptAcknowledged, t0.Add(2*time.Minute))
	r.Responses = append(r.Responses, ResponseRow{From: "Dr Osei", Kind: ResponseAck, At: t0.Add(2 * time.Minute)})
	check("Acknowledged 14:04 by Dr Osei")
	if lines := statusLines(r, "Dr Osei", false, statusClock); strings.Contains(strings.Join(lines, "\n"), "alerting") {
		t.Fatalf("still 'alerting' after the ack: %q", lines)
	}
	// A day-old time names its day.
	r.Responses[len(r.Responses)-1].At = t0.Add(-24 * time.Hour)
	check("Acknowledged 11 Mar 14:02 by Dr Osei")
}

// TestStatusLinesRoomAndOwnResponses: in a room the first member's receipt
// time counts and each response names its member; our own response names
// us; a recalled message and an escalation notice have no lines.
func TestStatusLinesRoomAndOwnResponses(t *testing.T) {
	t0 := statusNow.Add(-40 * time.Minute) // 13:50
	var kim, osei Receipt
	kim.State, kim.At[ReceiptDelivered] = ReceiptDelivered, t0.Add(2*time.Minute)
	osei.State, osei.At[ReceiptDelivered] = ReceiptDelivered, t0.Add(time.Minute)
	page := MessageRow{ID: 51, Outgoing: true, Timestamp: t0, Urgency: UrgencyCritical, AckRequired: true, Alerting: true,
		Members:   map[string]Receipt{"Nurse Kim": kim, "Dr Osei": osei},
		Responses: []ResponseRow{{From: "Nurse Kim", Kind: ResponseCallMe, At: t0.Add(3 * time.Minute)}}}
	got := statusLines(page, "ICU team", true, statusClock)
	want := []string{"Alerting on the team's devices since 13:51", "Nurse Kim: Call me 13:53"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("room lines %q, want %q", got, want)
	}
	in := MessageRow{ID: 54, Sender: "Nurse Kim", Timestamp: t0, Urgency: UrgencyHigh, AckRequired: true,
		Responses: []ResponseRow{{From: "You", Own: true, Kind: ResponseAck, At: statusNow}}}
	if got := statusLines(in, "Nurse Kim", false, statusClock); len(got) != 1 || got[0] != "You: Acknowledged 14:30" {
		t.Fatalf("own ack %q", got)
	}
	recalled := page
	recalled.Recalled = t0.Add(time.Minute)
	notice := MessageRow{ID: 53, Outgoing: true, Notice: true, EscalationStep: 1, Marks: MessageMarks{Role: "Charge nurse"}}
	if got := append(statusLines(recalled, "ICU team", true, statusClock), statusLines(notice, "ICU team", true, statusClock)...); len(got) != 0 {
		t.Fatalf("recalled message or notice has lines %q", got)
	}
}

// TestStatusLinesRoleAndEscalation: a message to a role says whom it
// reached (sender) or that it came as the role (recipient), first; the
// ladder's next step shows until acknowledged, and its end when exhausted.
func TestStatusLinesRoleAndEscalation(t *testing.T) {
	t0 := statusNow.Add(-6 * time.Minute)
	out := MessageRow{ID: 28, Outgoing: true, Timestamp: t0, Urgency: UrgencyHigh, AckRequired: true, Alerting: true,
		Marks:      MessageMarks{Role: "Cardiology on call"},
		Escalation: &EscalationView{Active: true, NextAt: t0.Add(5 * time.Minute)}}
	out.Receipt.State, out.Receipt.At[ReceiptDelivered] = ReceiptDelivered, t0
	got := statusLines(out, "Dr Osei", false, statusClock)
	want := []string{"To Cardiology on call: reached Dr Osei", "Alerting on Dr Osei's device since 14:24", "Escalates at 14:29 unless acknowledged"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sender's lines %q, want %q", got, want)
	}
	out.Escalation = &EscalationView{Exhausted: true}
	if got := statusLines(out, "Dr Osei", false, statusClock); got[len(got)-1] != "Escalation ended: nobody acknowledged" {
		t.Fatalf("exhausted ladder %q", got)
	}
	// Who runs the ladder: the escalation service, or this device after
	// the service fell silent.
	out.Escalation = &EscalationView{Active: true, NextAt: t0.Add(5 * time.Minute), HeldByService: true}
	got = statusLines(out, "Dr Osei", false, statusClock)
	if got[len(got)-2] != "Escalates at 14:29 unless acknowledged" || got[len(got)-1] != "Held by the escalation service" {
		t.Fatalf("held ladder %q", got)
	}
	out.Escalation = &EscalationView{Active: true, NextAt: t0.Add(5 * time.Minute), TakenBack: true}
	got = statusLines(out, "Dr Osei", false, statusClock)
	if got[len(got)-1] != "Escalation service silent: this device escalates" {
		t.Fatalf("ladder taken back %q", got)
	}
	in := MessageRow{ID: 5, Sender: "Nurse Kim", Body: "x", Marks: MessageMarks{Role: "Charge nurse"}}
	if got := statusLines(in, "Nurse Kim", false, statusClock); len(got) != 1 || got[0] != "To you as Charge nurse" {
		t.Fatalf("incoming role line %q", got)
	}
}

// TestStatusLinesTextAck: a page acknowledged by a text reply says so; one
// acknowledged in Rounds does not.
func TestStatusLinesTextAck(t *testing.T) {
	at := statusNow.Add(-time.Minute)
	page := MessageRow{ID: 30, Outgoing: true, AckRequired: true, Urgency: UrgencyCritical, Body: "K+ 6.9",
		Responses: []ResponseRow{{From: "Nurse Kim", Kind: ResponseAck, Text: "ack", At: at, ByText: true}}}
	page.Receipt.State, page.Receipt.At[ReceiptAcknowledged] = ReceiptAcknowledged, at
	lines := statusLines(page, "Nurse Kim", false, statusClock)
	if len(lines) == 0 || lines[0] != "Acknowledged 14:29 by Nurse Kim (by text reply)" {
		t.Errorf("status lines %q", lines)
	}
	page.Responses[0].ByText = false
	if lines := statusLines(page, "Nurse Kim", false, statusClock); strings.Contains(strings.Join(lines, "\n"), "text reply") {
		t.Errorf("a Rounds acknowledgement said text reply: %q", lines)
	}
}

// TestExcerpt: quoted text is cut at its first line and at n characters.
func TestExcerpt(t *testing.T) {
	for in, want := range map[string]string{
		"short": "short", "two\nlines": "two…", strings.Repeat("é", 70): strings.Repeat("é", 59) + "…",
	} {
		if got := Excerpt(in, 60); got != want {
			t.Errorf("Excerpt(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStatusAckMarks: the lines that say a message was acknowledged are
// marked (MessageRow.StatusAck, drawn strong), each once and no other:
// the sender's live view "Acknowledged … by", an acknowledgement by
// receipt alone, the peer's ack under a message they were sent; not a
// room member's or the user's own, which lead with who answered.
func TestStatusAckMarks(t *testing.T) {
	t0 := statusNow.Add(-28 * time.Minute)
	marked := func(r MessageRow, room bool) []string {
		t.Helper()
		lines, ack := statusRows(r, "Dr Osei", room, statusClock)
		if len(ack) != len(lines) {
			t.Fatalf("%d marks for %d lines", len(ack), len(lines))
		}
		var out []string
		for i, l := range lines {
			if ack[i] {
				out = append(out, l)
			}
		}
		return out
	}
	out := MessageRow{Outgoing: true, Timestamp: t0, Urgency: UrgencyCritical, AckRequired: true, Marks: MessageMarks{Role: "Cardiology on call"},
		Responses: []ResponseRow{{From: "Dr Osei", Kind: ResponseCallMe, At: t0}, {From: "Dr Osei", Kind: ResponseAck, At: t0.Add(2 * time.Minute)}}}
	out.Receipt.State = ReceiptAcknowledged
	if got := marked(out, false); strings.Join(got, "|") != "Acknowledged 14:04 by Dr Osei" {
		t.Errorf("live view: marked %q", got)
	}
	out.Responses = nil
	out.Receipt.At[ReceiptAcknowledged] = t0.Add(3 * time.Minute)
	if got := marked(out, false); strings.Join(got, "|") != "Acknowledged 14:05" {
		t.Errorf("by receipt: marked %q", got)
	}
	in := MessageRow{Timestamp: t0, Urgency: UrgencyHigh, AckRequired: true,
		Responses: []ResponseRow{{From: "Dr Osei", Kind: ResponseAck, At: t0}, {From: "Dr Osei", Kind: ResponseDecline, At: t0}}}
	if got := marked(in, false); strings.Join(got, "|") != "Acknowledged 14:02" {
		t.Errorf("the peer's ack: marked %q", got)
	}
	if got := marked(in, true); len(got) != 0 {
		t.Errorf("a member's ack in a room: marked %q", got)
	}
	in.Responses = []ResponseRow{{From: "You", Own: true, Kind: ResponseAck, At: t0}}
	if got := marked(in, false); len(got) != 0 {
		t.Errorf("our own ack: marked %q", got)
	}
}
