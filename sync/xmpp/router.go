package xmpp

import (
	"errors"
	"sync"
)

// IQHandler answers an iq get or set. It returns the payload of the result (nil
// for an empty result) or an error: a *StanzaError is sent as is, any other
// error as internal-server-error (without its text: it may carry local detail).
// It runs on the read loop: it must not block, and must not call SendIQ.
type IQHandler func(iq *Element) (*Element, error)

// StanzaHandler sees a message or presence with a child in its namespace. It
// returns true when it consumed the stanza (later handlers and the Config
// callbacks will not see it). It runs on the read loop: it must not block.
type StanzaHandler func(st *Element) bool

type iqRoute struct{ typ, space, local string }

type nsHandler struct {
	space string
	fn    StanzaHandler
}

// router dispatches incoming stanzas by element and payload namespace.
type router struct {
	mu       sync.RWMutex
	iq       map[iqRoute]IQHandler
	message  []nsHandler
	presence []nsHandler
}

func newRouter() *router { return &router{iq: map[iqRoute]IQHandler{}} }

// HandleIQ routes iq requests of type typ ("get" or "set") whose payload is
// <local xmlns=space/>. Requests nobody handles are answered with
// service-unavailable, as RFC 6120 §8.4 requires.
func (c *Client) HandleIQ(typ, space, local string, h IQHandler) {
	c.routes.mu.Lock()
	c.routes.iq[iqRoute{typ, space, local}] = h
	c.routes.mu.Unlock()
}

// HandleMessage registers h for messages with a child in namespace space ("" =
// every message). Handlers run in registration order before Config.OnMessage.
func (c *Client) HandleMessage(space string, h StanzaHandler) {
	c.routes.mu.Lock()
	c.routes.message = append(c.routes.message, nsHandler{space, h})
	c.routes.mu.Unlock()
}

// HandlePresence is HandleMessage for presence.
func (c *Client) HandlePresence(space string, h StanzaHandler) {
	c.routes.mu.Lock()
	c.routes.presence = append(c.routes.presence, nsHandler{space, h})
	c.routes.mu.Unlock()
}

func hasChildNS(st *Element, space string) bool {
	return space == "" || st.ChildNS(space) != nil
}

func (r *router) runStanza(list []nsHandler, st *Element) bool {
	for _, h := range list {
		if hasChildNS(st, h.space) && h.fn(st) {
			return true
		}
	}
	return false
}

// dispatch routes one incoming stanza. It runs on the read loop.
func (c *Client) dispatch(st *Element) {
	switch st.Name.Local {
	case "iq":
		c.dispatchIQ(st)
	case "message":
		c.routes.mu.RLock()
		list := c.routes.message
		c.routes.mu.RUnlock()
		if c.routes.runStanza(list, st) {
			return
		}
		c.deliverMessage(st)
	case "presence":
		c.routes.mu.RLock()
		list := c.routes.presence
		c.routes.mu.RUnlock()
		if c.routes.runStanza(list, st) {
			return
		}
		if c.cfg.OnPresence != nil {
			c.cfg.OnPresence(ParsePresence(st))
		}
	}
}

func (c *Client) dispatchIQ(iq *Element) {
	switch iq.Type() {
	case "result", "error":
		if !c.iqs.deliver(iq, c.JID()) {
			c.log.Debug("xmpp: dropping unsolicited or misaddressed iq answer", "id", iq.ID())
		}
		return
	case "get", "set":
	default:
		c.log.Debug("xmpp: dropping iq with bad type")
		return
	}
	// RFC 6120 §8.2.3: a get or set has exactly one payload child.
	if len(iq.Children) != 1 {
		_ = c.Send(IQError(iq, "modify", "bad-request"))
		return
	}
	p := iq.Children[0]
	c.routes.mu.RLock()
	h := c.routes.iq[iqRoute{iq.Type(), p.Name.Space, p.Name.Local}]
	c.routes.mu.RUnlock()
	if h == nil {
		_ = c.Send(IQError(iq, "cancel", "service-unavailable"))
		return
	}
	payload, err := h(iq)
	if err != nil {
		var se *StanzaError
		if errors.As(err, &se) {
			ans := NewElement(NSClient, "iq", "type", "error", "id", iq.ID(), "to", iq.From())
			e := NewElement(NSClient, "error", "type", se.Type).Append(NewElement(nsStanzas, se.Condition))
			_ = c.Send(ans.Append(e))
			return
		}
		_ = c.Send(IQError(iq, "wait", "internal-server-error"))
		return
	}
	res := IQResult(iq)
	if payload != nil {
		res.Append(payload)
	}
	_ = c.Send(res)
}
