// Package xmpp will speak the wire: RFC 7395 over coder/websocket, SASL, bind, the
// stanza codec, the IQ tracker and stream management, one file per XEP.
package xmpp
