package xmpp

import "time"

// Limits bound what a peer can make us hold in memory. A server we connect to is
// trusted for routing, not for sanity: a bug or an attacker on the path must not be
// able to exhaust a nurse's phone.
type Limits struct {
	// MaxFrameBytes is the largest WebSocket text message (one stanza under RFC
	// 7395) we decode. A larger one is not a reason to end the stream: its
	// first bytes identify it, the rest is discarded unread, and the stanza
	// is reported as unreadable (unreadable.go). See DefaultMaxFrameBytes.
	MaxFrameBytes int64
	// MaxDepth is the deepest element nesting inside one frame. Real stanzas stay
	// under 10 (a forwarded carbon of a MAM result is about 6).
	MaxDepth int
	// MaxAttrs is the most attributes one element may carry.
	MaxAttrs int
	// MaxElements is the most elements one frame may hold.
	MaxElements int
}

// Default limits: see the field comments for why.
const (
	// DefaultMaxFrameBytes is 2 MiB. Servers cap what a client may send, not
	// what they send us: Prosody's c2s_stanza_size_limit and ejabberd's
	// max_stanza_size (both 256 KiB in their shipped configurations) count
	// the bytes the sender wrote. What reaches us is the server's own
	// serialisation of that stanza, wrapped: a MAM result or carbon adds
	// <result>/<forwarded>/<delay>/<stanza-id> (a few hundred bytes), and
	// Prosody escapes every ' and " in text as &apos; / &quot;, so a body
	// that was 256 KiB of quotes arrives as up to 6 × 256 KiB = 1.5 MiB.
	// 2 MiB covers that worst case with room to spare. Memory stays bounded
	// on a phone: one frame is read at a time, its buffer is not kept beyond
	// 64 KiB, and anything larger is discarded as it arrives.
	DefaultMaxFrameBytes = 2 << 20
	DefaultMaxDepth      = 32
	DefaultMaxAttrs      = 64
	DefaultMaxElements   = 4096

	// DefaultIQTimeout bounds an IQ round trip when the caller's context has no
	// deadline; a dead socket must not hang a request forever.
	DefaultIQTimeout = 30 * time.Second
	// defaultWriteTimeout bounds one frame write.
	defaultWriteTimeout = 15 * time.Second
)

// DefaultLimits returns the limits used when Config.Limits is zero.
func DefaultLimits() Limits {
	return Limits{MaxFrameBytes: DefaultMaxFrameBytes, MaxDepth: DefaultMaxDepth, MaxAttrs: DefaultMaxAttrs, MaxElements: DefaultMaxElements}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFrameBytes <= 0 {
		l.MaxFrameBytes = d.MaxFrameBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = d.MaxAttrs
	}
	if l.MaxElements <= 0 {
		l.MaxElements = d.MaxElements
	}
	return l
}
