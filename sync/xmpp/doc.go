// Package xmpp speaks the wire for Rounds: RFC 7395 XMPP over WebSocket on
// github.com/coder/websocket, SASL (RFC 6120, SCRAM via github.com/xdg-go/scram),
// resource binding, the stanza codec, an IQ tracker, a stanza router and XEP-0198
// stream management, with one file per XEP.
//
// It keeps no state on disk, draws nothing and decides no policy: the sync engine
// above it persists, retries and dedupes. What it guarantees is that a stanza is
// either acknowledged by the server (Config.OnAcked), or handed back for resending
// (ResumeFailedError.Unacked, Client.Unacked), and that bad input from the network
// ends in a typed error and a stream error on the wire, never in a panic.
//
// It imports one package of ours, the leaf rounds/jid (the address type every
// layer names people and rooms by; jid.go keeps the wire's own names for it),
// and nothing else of ours.
package xmpp
