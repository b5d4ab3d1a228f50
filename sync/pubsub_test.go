package sync

import (
	"testing"

	"rounds/sync/xmpp"
)

func nodeDoc(t *testing.T, s string) *xmpp.Element {
	t.Helper()
	el, err := xmpp.DecodeElement([]byte(s), xmpp.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// TestParseNodeItems: the item in force of the policy node ("current", else
// the last) arrives as PolicyUpdated with its values decoded, the on-call
// schedule as OnCallUpdated; a document that does not parse is an error (so
// nothing is reported and the last good one stays in force); another node,
// or no payload, is no event.
func TestParseNodeItems(t *testing.T) {
	old := xmpp.PubSubItem{ID: "old", Payload: nodeDoc(t, `<policy xmlns='urn:rounds:policy:0' version='1'/>`)}
	cur := xmpp.PubSubItem{ID: "current", Payload: nodeDoc(t, `<policy xmlns='urn:rounds:policy:0' version='7'><lock max-seconds='120'/><admin jid='it@h.org'/></policy>`)}
	ev, err := ParseNodeItems(NodePolicy, []xmpp.PubSubItem{cur, old})
	p, ok := ev.(PolicyUpdated)
	if err != nil || !ok || p.Policy.Version != 7 || p.Policy.LockMaxSeconds != 120 || len(p.Policy.Admins) != 1 {
		t.Fatalf("policy: %#v, %v", ev, err)
	}
	if ev, _ := ParseNodeItems(NodePolicy, []xmpp.PubSubItem{old, {ID: "x", Payload: nodeDoc(t, `<policy xmlns='urn:rounds:policy:0' version='2'/>`)}}); ev.(PolicyUpdated).Policy.Version != 2 {
		t.Fatalf("without a current item the last counts: %#v", ev)
	}
	if ev, err := ParseNodeItems(NodePolicy, []xmpp.PubSubItem{{ID: "current", Payload: nodeDoc(t, `<policy xmlns='urn:rounds:policy:0' version='4'><lock max-seconds='5'/></policy>`)}}); err == nil || ev != nil {
		t.Fatalf("a lock below the bound: %#v, %v", ev, err)
	}

	ev, err = ParseNodeItems(NodeOnCall, []xmpp.PubSubItem{{ID: "current", Payload: nodeDoc(t,
		`<schedule xmlns='urn:rounds:oncall:0'><shift role='Cardiology on call' jid='dr.osei@h.org' from='2000-01-01T00:00:00Z' until='2100-01-01T00:00:00Z' orders='true'/></schedule>`)}})
	s, ok := ev.(OnCallUpdated)
	if err != nil || !ok || len(s.Shifts) != 1 || s.Shifts[0].JID != "dr.osei@h.org" || !s.Shifts[0].Orders {
		t.Fatalf("schedule: %#v, %v", ev, err)
	}
	if ev, err := ParseNodeItems(NodeOnCall, []xmpp.PubSubItem{{ID: "current", Payload: nodeDoc(t,
		`<schedule xmlns='urn:rounds:oncall:0'><shift role='X' jid='not a jid' from='x' until='y'/></schedule>`)}}); err == nil || ev != nil {
		t.Fatalf("a malformed schedule: %#v, %v", ev, err)
	}

	if ev, err := ParseNodeItems("urn:example:other", []xmpp.PubSubItem{cur}); ev != nil || err != nil {
		t.Fatalf("another node: %#v, %v", ev, err)
	}
	if ev, err := ParseNodeItems(NodePolicy, []xmpp.PubSubItem{{ID: "current"}}); ev != nil || err != nil {
		t.Fatalf("no payload: %#v, %v", ev, err)
	}
}
