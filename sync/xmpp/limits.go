package xmpp

import "time"

// Limits bound what a peer can make us hold in memory. A server we connect to is
// trusted for routing, not for sanity: a bug or an attacker on the path must not be
// able to exhaust a nurse's phone.
type Limits struct {
	// MaxFrameBytes is the largest WebSocket text message (one stanza under RFC
	// 7395) we accept. Prosody's own default c2s_stanza_size_limit is 256 KiB.
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
	DefaultMaxFrameBytes = 256 << 10
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
