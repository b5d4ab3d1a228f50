package xmpp

import (
	"testing"

	"rounds/internal/testserver"
)

// XEP-0115 §5.2 simple example.
func TestCapsVerXEPExample(t *testing.T) {
	d := DiscoInfo{
		Identity: Identity{Category: "client", Type: "pc", Name: "Exodus 0.9.1"},
		Features: []string{"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc", "http://jabber.org/protocol/caps"},
	}
	if got := CapsVer(d); got != "QgayPKawpkPSDYmwT/WM94uAlu0=" {
		t.Fatalf("ver = %s", got)
	}
}

// Alice (two devices, carbons on) sends bob a message with a receipt request;
// bob's 0184 receipt and 0333 displayed marker come back; alice's second
// device sees the sent carbon; CSI does not disturb the stream.
func TestChatReceiptsMarkersCarbons(t *testing.T) {
	s := testserver.StartT(t, testserver.Options{SCRAMSHA256: true}, "alice", "bob")
	var phone, desk, bobBox inbox
	pc := baseConfig(s, "alice")
	pc.Resource, pc.OnMessage = "phone", phone.add
	dc := baseConfig(s, "alice")
	dc.Resource, dc.OnMessage = "desk", desk.add
	bc := baseConfig(s, "bob")
	bc.OnMessage = bobBox.add
	alicePhone, aliceDesk, bob := dialT(t, pc), dialT(t, dc), dialT(t, bc)
	for _, c := range []*Client{alicePhone, aliceDesk, bob} {
		if err := c.EnableCarbons(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if err := c.SetPresence(ShowDND, "In surgery"); err != nil {
			t.Fatal(err)
		}
	}
	if err := aliceDesk.SetActive(false); err != nil {
		t.Fatal(err)
	}
	msg := NewChat(s.JID("bob"), "K+ 6.1, please review")
	if err := alicePhone.Send(msg); err != nil {
		t.Fatal(err)
	}
	var got *Message
	waitFor(t, "bob receives", func() bool { got = bobBox.find(func(m *Message) bool { return m.ID == msg.ID() }); return got != nil })
	if got.Body != "K+ 6.1, please review" || !got.ReceiptRequested || !got.Markable || got.OriginID != msg.ID() {
		t.Fatalf("bob got %+v", got)
	}
	if sid := got.StanzaIDBy(s.JID("bob")); sid == "" {
		t.Fatalf("no stanza-id by bob's archive: %+v", got.StanzaIDs)
	}
	if err := bob.Send(NewReceipt(got)); err != nil {
		t.Fatal(err)
	}
	if err := bob.Send(NewDisplayed(got, "")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "receipt", func() bool { return phone.find(func(m *Message) bool { return m.ReceiptFor == msg.ID() }) != nil })
	waitFor(t, "displayed", func() bool { return phone.find(func(m *Message) bool { return m.DisplayedFor == msg.ID() }) != nil })
	if err := aliceDesk.SetActive(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sent carbon on desk", func() bool {
		return desk.find(func(m *Message) bool { return m.Carbon == CarbonSent && m.ID == msg.ID() }) != nil
	})
	waitFor(t, "received carbon of the receipt on desk", func() bool {
		return desk.find(func(m *Message) bool { return m.Carbon == CarbonReceived && m.ReceiptFor == msg.ID() }) != nil
	})
}
