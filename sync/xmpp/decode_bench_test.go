package xmpp

import (
	"testing"
)

// mamResultFrame is a MAM result as Prosody sends it during catch-up: attributes
// in single quotes, ' and & escaped in the body, 944 bytes.
var mamResultFrame = []byte(`<message xmlns='jabber:client' to='alice@rounds.example/phone-3f2a'>` +
	`<result xmlns='urn:xmpp:mam:2' queryid='f27a9c3e-5d0b-4d5e-9a51-2c1b7e0d4a11' id='5d1c7a9e-2b3f-4a6d-8e0c-1f9b3a7d2c45'>` +
	`<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-03-14T09:26:53.589Z'/>` +
	`<message xmlns='jabber:client' from='bob@rounds.example/ward7-tablet' to='alice@rounds.example' type='chat' id='9b2f4e1c-7a3d-4c8e-b5f0-6d2a1e9c3b74'>` +
	`<body>Bed 12: BP 142/91 at 09:20, repeat in 30 min. Patient&apos;s pain 6/10, PRN paracetamol given. ` +
	`Please review the fluid chart &amp; sign off before rounds.</body>` +
	`<request xmlns='urn:xmpp:receipts'/><markable xmlns='urn:xmpp:chat-markers:0'/>` +
	`<origin-id xmlns='urn:xmpp:sid:0' id='9b2f4e1c-7a3d-4c8e-b5f0-6d2a1e9c3b74'/>` +
	`<stanza-id xmlns='urn:xmpp:sid:0' id='5d1c7a9e-2b3f-4a6d-8e0c-1f9b3a7d2c45' by='alice@rounds.example'/>` +
	`</message></forwarded></result></message>`)

var decoders = []struct {
	name string
	fn   func([]byte, Limits) (*Element, error)
}{{"new", DecodeElement}, {"reference", decodeElementReference}}

// BenchmarkDecodeMAMResult: one MAM result frame through the new decoder and
// through the encoding/xml reference.
//
//	go test ./sync/xmpp/ -run '^$' -bench 'MAMResult' -benchmem -count 5
func BenchmarkDecodeMAMResult(b *testing.B) {
	for _, c := range decoders {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(mamResultFrame)))
			for b.Loop() {
				if _, err := c.fn(mamResultFrame, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReceiveMAMResult: decode plus what the read loop then does with a
// MAM result before it is collected: route by namespace, find
// result/forwarded/message, ParseMessage, the delay stamp.
func BenchmarkReceiveMAMResult(b *testing.B) {
	for _, c := range decoders {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st, err := c.fn(mamResultFrame, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				if !st.IsStanza() || !hasChildNS(st, NSMAM) {
					b.Fatal("not a MAM result")
				}
				r := st.Child(NSMAM, "result")
				fwd := r.Child(NSForward, "forwarded")
				m := ParseMessage(fwd.Child(NSClient, "message"))
				if m.Body == "" || ParseDelay(fwd).Stamp.IsZero() || r.Attr("id") == "" || len(m.StanzaIDs) != 1 {
					b.Fatal("bad parse")
				}
			}
		})
	}
}
