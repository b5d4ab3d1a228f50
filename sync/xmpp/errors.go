package xmpp

import (
	"errors"
	"fmt"
)

// Namespaces of RFC 6120 error conditions.
const (
	nsStreams = "urn:ietf:params:xml:ns:xmpp-streams"
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// Sentinel errors. Compare with errors.Is; the concrete types below carry detail.
var (
	// ErrInsecureTransport: a ws:// URL to a host that is not loopback, or a
	// mechanism that would expose the password. Never retried: it is a
	// configuration error, and the fix is wss://.
	ErrInsecureTransport = errors.New("xmpp: insecure transport refused")
	// ErrNotAuthorized: the server rejected the credentials (SASL not-authorized
	// and friends), or the server could not prove it knows them (bad SCRAM server
	// signature). The sync engine stops retrying on it and asks the user.
	ErrNotAuthorized = errors.New("xmpp: not authorized")
	// ErrNoMechanism: the server offered no SASL mechanism we are willing to use.
	ErrNoMechanism = errors.New("xmpp: no acceptable SASL mechanism")
	// ErrDisconnected: the socket is gone. With stream management the session may
	// still be resumable (Client.Resume).
	ErrDisconnected = errors.New("xmpp: disconnected")
	// ErrClosed: Close was called; the Client is finished.
	ErrClosed = errors.New("xmpp: client closed")
	// ErrResumeFailed: the server answered <failed/> to <resume/>. The engine must
	// log in afresh, catch up with MAM and resend ResumeFailedError.Unacked.
	ErrResumeFailed = errors.New("xmpp: stream resumption failed")
	// ErrSpoofed: a forwarded stanza (carbon, MAM result) did not come from the
	// entity allowed to forward it. It is dropped, never handed up.
	ErrSpoofed = errors.New("xmpp: spoofed forward rejected")
	// ErrProtocol: the server broke the protocol in a way that is not a stream
	// error of its own (an unexpected element during negotiation, say).
	ErrProtocol = errors.New("xmpp: protocol violation")
)

// StreamError is an RFC 6120 §4.9 stream error: either one the server sent us
// (Local false) or one we sent before closing because the server's input was
// unacceptable (Local true).
type StreamError struct {
	Condition string // e.g. "not-well-formed", "policy-violation"
	Text      string
	Local     bool
	Err       error // the underlying decode error, for Local errors
}

func (e *StreamError) Error() string {
	who := "server sent"
	if e.Local {
		who = "closing stream with"
	}
	s := fmt.Sprintf("xmpp: %s stream error %s", who, e.Condition)
	if e.Text != "" {
		s += ": " + e.Text
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *StreamError) Unwrap() error { return e.Err }

// Is makes a server's not-authorized stream error match ErrNotAuthorized.
func (e *StreamError) Is(target error) bool {
	return target == ErrNotAuthorized && e.Condition == "not-authorized"
}

// AuthError is a SASL failure (RFC 6120 §6.5) or a failed server proof.
type AuthError struct {
	Mechanism string
	Condition string // "not-authorized", "credentials-expired", "server-signature", ...
	Text      string
}

func (e *AuthError) Error() string {
	s := "xmpp: authentication with " + e.Mechanism + " failed: " + e.Condition
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Is: every AuthError is a credential problem except the transient
// "temporary-auth-failure" and "aborted", which a retry may fix.
func (e *AuthError) Is(target error) bool {
	if target != ErrNotAuthorized {
		return false
	}
	return e.Condition != "temporary-auth-failure" && e.Condition != "aborted"
}

// InsecureTransportError says which URL was refused and why.
type InsecureTransportError struct {
	URL    string
	Reason string
}

func (e *InsecureTransportError) Error() string {
	return "xmpp: refusing " + e.URL + ": " + e.Reason
}

func (e *InsecureTransportError) Is(target error) bool { return target == ErrInsecureTransport }

// StanzaError is an RFC 6120 §8.3 error carried in an <iq/>, <message/> or
// <presence/> of type "error".
type StanzaError struct {
	Type      string // cancel, continue, modify, auth, wait
	Condition string // e.g. "service-unavailable", "item-not-found"
	Text      string
	By        string
}

func (e *StanzaError) Error() string {
	s := "xmpp: stanza error " + e.Type + "/" + e.Condition
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// ParseStanzaError extracts the <error/> child of a stanza, or nil if it has none.
func ParseStanzaError(st *Element) *StanzaError {
	el := st.Child("", "error")
	if el == nil {
		el = st.Child(NSClient, "error")
	}
	if el == nil {
		return nil
	}
	se := &StanzaError{Type: el.Attr("type"), By: el.Attr("by"), Condition: "undefined-condition"}
	for _, c := range el.Children {
		if c.Name.Space != nsStanzas {
			continue
		}
		if c.Name.Local == "text" {
			se.Text = c.Text
		} else {
			se.Condition = c.Name.Local
		}
	}
	return se
}

// ResumeFailedError reports <failed/> in answer to <resume/>. Unacked holds, in
// order, the stanzas the server never confirmed: resend them on a fresh session.
type ResumeFailedError struct {
	Condition string
	Unacked   []*Element
}

func (e *ResumeFailedError) Error() string {
	return fmt.Sprintf("xmpp: stream resumption failed (%s), %d stanzas unacknowledged", e.Condition, len(e.Unacked))
}

func (e *ResumeFailedError) Is(target error) bool { return target == ErrResumeFailed }
