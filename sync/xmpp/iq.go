package xmpp

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"sync"
)

// randomID returns 80 random bits, enough that ids of ours never collide (they
// also serve as XEP-0359 origin-ids).
func randomID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// NewID returns a fresh stanza id.
func NewID() string { return randomID() }

// iqTracker matches IQ answers to requests by id, and checks that the answer
// comes from the entity the request went to (RFC 6120 §8.1.2.1: otherwise anyone
// could answer our roster get).
type iqTracker struct {
	mu      sync.Mutex
	pending map[string]*pendingIQ
}

type pendingIQ struct {
	to string // as sent; "" means our own server / account
	ch chan iqAnswer
}

type iqAnswer struct {
	el  *Element
	err error
}

func newIQTracker() *iqTracker { return &iqTracker{pending: map[string]*pendingIQ{}} }

func (t *iqTracker) add(id, to string) chan iqAnswer {
	ch := make(chan iqAnswer, 1)
	t.mu.Lock()
	t.pending[id] = &pendingIQ{to: to, ch: ch}
	t.mu.Unlock()
	return ch
}

func (t *iqTracker) remove(id string) {
	t.mu.Lock()
	delete(t.pending, id)
	t.mu.Unlock()
}

// deliver hands an iq result/error to its waiter. It reports false for an
// answer nobody asked for, or one from the wrong sender; the caller drops it.
func (t *iqTracker) deliver(iq *Element, self JID) bool {
	t.mu.Lock()
	p, ok := t.pending[iq.ID()]
	if ok && !answerFromOK(p.to, iq.From(), self) {
		ok = false
	}
	if ok {
		delete(t.pending, iq.ID())
	}
	t.mu.Unlock()
	if !ok {
		return false
	}
	var ans iqAnswer
	if iq.Type() == "error" {
		se := ParseStanzaError(iq)
		if se == nil {
			se = &StanzaError{Type: "cancel", Condition: "undefined-condition"}
		}
		ans.err = se
	}
	ans.el = iq
	p.ch <- ans
	return true
}

// answerFromOK: a request to "" (our account) may be answered with no from, our
// bare JID, our full JID or our domain; a request to X must be answered by X.
func answerFromOK(to, from string, self JID) bool {
	if to == "" || to == self.Bare().String() {
		if from == "" {
			return true
		}
		f, err := ParseJID(from)
		if err != nil {
			return false
		}
		return f.Bare() == self.Bare() || f == JID{Domain: self.Domain}
	}
	a, err1 := ParseJID(to)
	b, err2 := ParseJID(from)
	return err1 == nil && err2 == nil && a == b
}

// failAll ends every pending request with err.
func (t *iqTracker) failAll(err error) {
	t.mu.Lock()
	p := t.pending
	t.pending = map[string]*pendingIQ{}
	t.mu.Unlock()
	for _, x := range p {
		x.ch <- iqAnswer{err: err}
	}
}

// SendIQ sends an <iq/> of type get or set and waits for its result. A type
// "error" answer comes back as *StanzaError. Without a deadline in ctx,
// DefaultIQTimeout applies. The id is set when empty.
//
// Do not call it from a handler running on the read loop (Config callbacks,
// HandleIQ, HandleMessage): the answer could never be read. Start a goroutine.
func (c *Client) SendIQ(ctx context.Context, iq *Element) (*Element, error) {
	if iq.Name.Local != "iq" || (iq.Type() != "get" && iq.Type() != "set") {
		return nil, fmt.Errorf("xmpp: SendIQ wants an iq get or set")
	}
	iq.Name.Space = NSClient
	if iq.ID() == "" {
		iq.SetAttr("id", randomID())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultIQTimeout)
		defer cancel()
	}
	ch := c.iqs.add(iq.ID(), iq.To())
	if err := c.Send(iq); err != nil {
		c.iqs.remove(iq.ID())
		return nil, err
	}
	select {
	case a := <-ch:
		return a.el, a.err
	case <-ctx.Done():
		c.iqs.remove(iq.ID())
		return nil, fmt.Errorf("xmpp: iq %s: %w", iq.ID(), ctx.Err())
	}
}

// IQResult builds the empty result for a request.
func IQResult(req *Element) *Element {
	return NewElement(NSClient, "iq", "type", "result", "id", req.ID(), "to", req.From())
}

// IQError builds an error answer for a request (RFC 6120 §8.3).
func IQError(req *Element, errType, condition string) *Element {
	return NewElement(NSClient, "iq", "type", "error", "id", req.ID(), "to", req.From()).Append(
		NewElement(NSClient, "error", "type", errType).Append(NewElement(nsStanzas, condition)))
}
