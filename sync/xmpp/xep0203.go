package xmpp

import "time"

// XEP-0203 Delayed Delivery: when an offline or archived message was really
// sent (the conversation view sorts by it).
const NSDelay = "urn:xmpp:delay"

// Delay is a parsed <delay/>; Stamp is zero when absent or unparsable.
type Delay struct {
	Stamp  time.Time
	From   string
	Reason string
}

// ParseDelay reads the first delay child of st (XEP-0082 DateTime).
func ParseDelay(st *Element) Delay {
	d := st.Child(NSDelay, "delay")
	if d == nil {
		return Delay{}
	}
	t, err := time.Parse(time.RFC3339Nano, d.Attr("stamp"))
	if err != nil {
		return Delay{}
	}
	return Delay{Stamp: t.UTC(), From: d.Attr("from"), Reason: d.Text}
}

// ParseDelays reads every delay child of st, in document order; unparsable
// stamps are left out. A server that holds a stanza for later delivery
// appends its own delay, so the sender's (if any) comes first.
func ParseDelays(st *Element) []Delay {
	var out []Delay
	for _, d := range st.ChildrenNamed(NSDelay, "delay") {
		t, err := time.Parse(time.RFC3339Nano, d.Attr("stamp"))
		if err != nil {
			continue
		}
		out = append(out, Delay{Stamp: t.UTC(), From: d.Attr("from"), Reason: d.Text})
	}
	return out
}
