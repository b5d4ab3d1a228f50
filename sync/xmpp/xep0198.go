package xmpp

import (
	"context"
	"fmt"
	"strconv"
)

// XEP-0198 Stream Management: the no-loss guarantee on flaky Wi-Fi. The server
// acknowledges every stanza it handled (Config.OnAcked fires then, and only
// then may the engine mark a message sent); after a dropped socket Resume
// continues the same session and replays what was not acknowledged.
const nsSM = "urn:xmpp:sm:3"

type smState struct {
	id        string
	resumable bool
	// inH counts stanzas we received and handled (our h); ackedH is the last h
	// the server reported for our stanzas. Both wrap at 2^32 as the XEP says.
	inH, ackedH uint32
	// queue holds our stanzas not yet acknowledged, in order: queue[i] is the
	// stanza number ackedH+1+i.
	queue []*Element
	// requested is true while an <r/> is outstanding, so that a burst of sends
	// costs one ack request, not one per stanza.
	requested bool
	// enabling: a late <enable/> is written and its answer not yet read.
	// Our stanzas written after it are queued (the server counts them once
	// it enabled), but nothing we receive counts until <enabled/> arrives.
	enabling bool
}

// enableSM asks for stream management with resumption. Stanzas that arrive
// before <enabled/> are returned for dispatch (they are not counted).
func enableSM(ctx context.Context, t *transport) (*smState, []*Element, error) {
	if err := t.writeElement(ctx, NewElement(nsSM, "enable", "resume", "true")); err != nil {
		return nil, nil, err
	}
	var early []*Element
	for {
		el, err := t.readElement(ctx)
		if err != nil {
			return nil, early, err
		}
		if el.Name.Space != nsSM {
			if el.IsStanza() {
				early = append(early, el)
			}
			continue
		}
		switch el.Name.Local {
		case "enabled":
			r := el.Attr("resume")
			return &smState{id: el.Attr("id"), resumable: (r == "true" || r == "1") && el.Attr("id") != ""}, early, nil
		case "failed":
			return nil, early, nil // the session works without SM; the engine then relies on MAM
		}
	}
}

// EnableStreamManagement enables XEP-0198 on a session that started without
// it (Config.LateStreamManagement), after the caller read the archives. It
// returns once the server answered: with <enabled/> the session is managed
// (and resumable if the server said so) from that point of the stream on;
// with <failed/> it carries on unmanaged, as with a server without XEP-0198,
// and the error is nil too: StreamManagement says which. It does nothing
// when stream management is on already, disabled, or not offered.
//
// Stanzas received before <enabled/> are not counted; those we send after
// the <enable/> are (the server processes the stream in order). The read
// loop reads the answer, so nothing it dispatched before is left out.
func (c *Client) EnableStreamManagement(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.tr == nil:
		c.mu.Unlock()
		return ErrDisconnected
	case c.sm != nil && !c.sm.enabling, c.cfg.DisableStreamManagement,
		c.features == nil || c.features.Child(nsSM, "sm") == nil:
		c.mu.Unlock()
		return nil
	}
	answer, done, t := c.smAnswer, c.loopDone, c.tr
	if c.sm == nil {
		answer = make(chan error, 1)
		if err := t.writeElement(c.ctx, NewElement(nsSM, "enable", "resume", "true")); err != nil {
			c.mu.Unlock()
			return err
		}
		c.sm, c.smAnswer = &smState{enabling: true}, answer
	}
	c.mu.Unlock()
	select {
	case err := <-answer:
		answer <- err // for a second caller
		return err
	case <-done:
		return ErrDisconnected
	case <-ctx.Done():
		return ctx.Err()
	}
}

// lateAnswer takes the server's answer to EnableStreamManagement's
// <enable/>, on the read loop of transport t.
func (c *Client) lateAnswer(t *transport, el *Element) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sm == nil || !c.sm.enabling || c.tr != t {
		return
	}
	sm := c.sm
	if el.Name.Local == "failed" {
		// The session works on unmanaged; what was queued was written and
		// will never be acknowledged, as on a server without XEP-0198.
		c.sm = nil
		c.log.Warn("xmpp: stream management refused; carrying on without")
	} else {
		r := el.Attr("resume")
		sm.id = el.Attr("id")
		sm.resumable = (r == "true" || r == "1") && sm.id != ""
		sm.enabling = false
		if len(sm.queue) > 0 {
			sm.requested = true
			_ = t.writeElement(c.ctx, NewElement(nsSM, "r"))
		}
		c.log.Info("xmpp: stream management enabled", "resumable", sm.resumable)
	}
	c.smAnswer <- nil
}

func parseH(el *Element) (uint32, bool) {
	v, err := strconv.ParseUint(el.Attr("h"), 10, 32)
	return uint32(v), err == nil
}

// handleSM processes <r/> and <a/> on the read loop.
func (c *Client) handleSM(t *transport, el *Element) error {
	c.log.Debug("xmpp: sm", "element", el.Name.Local, "h", el.Attr("h"))
	switch el.Name.Local {
	case "enabled", "failed":
		c.lateAnswer(t, el)
		return nil
	case "r":
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.sm == nil || c.sm.enabling || c.tr != t {
			return nil
		}
		return t.writeElement(c.ctx, NewElement(nsSM, "a", "h", strconv.FormatUint(uint64(c.sm.inH), 10)))
	case "a":
		h, ok := parseH(el)
		if !ok {
			return &StreamError{Condition: "undefined-condition", Text: "bad h in <a/>", Local: true}
		}
		acked, err := c.ack(h)
		c.notifyAcked(acked)
		c.mu.Lock()
		if c.sm != nil {
			c.log.Debug("xmpp: sm acked", "n", len(acked), "pending", len(c.sm.queue), "err", err)
		}
		if err == nil && c.sm != nil && c.tr == t {
			c.sm.requested = false
			if len(c.sm.queue) > 0 {
				c.sm.requested = true
				err = t.writeElement(c.ctx, NewElement(nsSM, "r"))
			}
		}
		c.mu.Unlock()
		return err
	}
	return nil
}

// ack drops the stanzas the server confirmed with h and returns them, oldest
// first. An h beyond what we sent is a server bug that would make us lose track
// of what was delivered: XEP-0198 §4 calls for a stream error.
func (c *Client) ack(h uint32) ([]*Element, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sm == nil {
		return nil, nil
	}
	n := h - c.sm.ackedH // modulo 2^32
	if int64(n) > int64(len(c.sm.queue)) {
		return nil, &StreamError{Condition: "undefined-condition", Local: true,
			Text: fmt.Sprintf("handled-count-too-high: h=%d, we sent %d", h, uint64(c.sm.ackedH)+uint64(len(c.sm.queue)))}
	}
	acked := c.sm.queue[:n:n]
	c.sm.queue = c.sm.queue[n:]
	c.sm.ackedH = h
	return acked, nil
}

func (c *Client) notifyAcked(acked []*Element) {
	if c.cfg.OnAcked == nil {
		return
	}
	for _, st := range acked {
		c.cfg.OnAcked(st)
	}
}

// RequestAck sends <r/> so the server reports what it has handled.
func (c *Client) RequestAck() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sm == nil {
		return fmt.Errorf("%w: stream management is not enabled", ErrProtocol)
	}
	if c.tr == nil {
		return ErrDisconnected
	}
	c.sm.requested = true
	return c.tr.writeElement(c.ctx, NewElement(nsSM, "r"))
}

// Unacked returns a copy of the stanzas sent but not yet acknowledged.
func (c *Client) Unacked() []*Element {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sm == nil {
		return nil
	}
	return append([]*Element(nil), c.sm.queue...)
}

// StreamManagement reports whether XEP-0198 is on and the session resumable.
func (c *Client) StreamManagement() (enabled, resumable bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sm != nil, c.sm != nil && c.sm.resumable
}

// Resume continues the stream-management session on a new socket after the old
// one dropped (XEP-0198 §5): log in again (with the SCRAM keys learned at the
// first login), send <resume/> with our h, and replay what the server did not
// confirm. Stanzas the server did confirm fire OnAcked.
//
// If the server answers <failed/>, the old session is gone: Resume binds a new
// one on the same socket (so the Client is online again, with a possibly new
// full JID, no presence sent, carbons off, no rooms joined) and returns a
// *ResumeFailedError holding the stanzas that were never acknowledged. The
// engine resends those (same origin-ids, so recipients dedupe) and catches up
// with MAM, exactly as after a fresh login.
//
// Authentication errors come back as they are (errors.Is ErrNotAuthorized).
func (c *Client) Resume(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.tr != nil:
		c.mu.Unlock()
		return nil
	}
	sm := c.sm
	c.mu.Unlock()
	if sm == nil || !sm.resumable {
		return c.restartAfterFailedResume(ctx, nil, nil, "not-resumable")
	}
	t, feats, err := c.login(ctx)
	if err != nil {
		return err
	}
	if feats.Child(nsSM, "sm") == nil {
		return c.restartAfterFailedResume(ctx, t, feats, "feature-not-offered")
	}
	c.mu.Lock()
	inH, previd := sm.inH, sm.id
	c.mu.Unlock()
	if err := t.writeElement(ctx, NewElement(nsSM, "resume", "h", strconv.FormatUint(uint64(inH), 10), "previd", previd)); err != nil {
		t.abort()
		return err
	}
	actx := ctx
	if d := c.cfg.ResumeTimeout; d > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	for {
		el, err := t.readElement(actx)
		if err != nil {
			t.abort()
			if ctx.Err() == nil && actx.Err() != nil {
				// No answer in time: a fresh session on a new socket
				// (possibly another endpoint) rather than waiting on.
				c.log.Info("xmpp: no answer to resume; signing in afresh", "after", c.cfg.ResumeTimeout)
				return c.restartAfterFailedResume(ctx, nil, nil, "timeout")
			}
			return err
		}
		if el.Name.Space != nsSM {
			continue
		}
		switch el.Name.Local {
		case "resumed":
			h, ok := parseH(el)
			if !ok {
				t.shutdown("undefined-condition")
				return fmt.Errorf("%w: <resumed/> without h", ErrProtocol)
			}
			acked, err := c.ack(h)
			c.log.Debug("xmpp: resumed", "h", h, "acked", len(acked), "err", err)
			if err != nil {
				t.shutdown("undefined-condition")
				return err
			}
			c.notifyAcked(acked)
			c.mu.Lock()
			if c.closed {
				c.mu.Unlock()
				t.shutdown("")
				return ErrClosed
			}
			for _, st := range c.sm.queue {
				if err := t.writeElement(ctx, st); err != nil {
					c.mu.Unlock()
					t.abort()
					return err
				}
			}
			c.attach(t, nil)
			// An <r/> outstanding on the old socket died with it; left set,
			// the flag would keep Send from ever asking again.
			c.sm.requested = len(c.sm.queue) > 0
			if c.sm.requested {
				_ = t.writeElement(c.ctx, NewElement(nsSM, "r"))
			}
			c.mu.Unlock()
			c.log.Info("xmpp: stream resumed", "replayed", len(c.Unacked()))
			return nil
		case "failed":
			if h, ok := parseH(el); ok {
				if acked, err := c.ack(h); err == nil {
					c.notifyAcked(acked)
				}
			}
			cond := "undefined-condition"
			for _, ch := range el.Children {
				if ch.Name.Space == nsStanzas {
					cond = ch.Name.Local
				}
			}
			return c.restartAfterFailedResume(ctx, t, feats, cond)
		}
	}
}

// restartAfterFailedResume starts a fresh session (on t when it is authenticated
// and usable) and reports the stanzas that were never acknowledged.
func (c *Client) restartAfterFailedResume(ctx context.Context, t *transport, feats *Element, cond string) error {
	c.mu.Lock()
	var unacked []*Element
	if c.sm != nil {
		unacked = c.sm.queue
	}
	c.sm = nil
	c.mu.Unlock()
	c.iqs.failAll(ErrResumeFailed)
	if t == nil {
		var err error
		if t, feats, err = c.login(ctx); err != nil {
			return err
		}
	}
	if err := c.startSession(ctx, t, feats); err != nil {
		return err
	}
	return &ResumeFailedError{Condition: cond, Unacked: unacked}
}
