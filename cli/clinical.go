package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"rounds/app"
	"strings"
	"time"

	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// The clinical parts of the command line: what a page asks of the recipient,
// the on-call and policy nodes, wipe. The wire formats are sync/xmpp's
// (docs/PROTOCOL.md); the checks are the ones every Rounds device makes.

func sendOptions(u securestore.Urgency, ack, order bool, role string) sync.SendOptions {
	return sync.SendOptions{Urgency: u, AckRequired: ack || u != securestore.UrgencyNormal, Order: order, Role: strings.TrimSpace(role)}
}

func ackRequired(o sync.SendOptions) bool {
	return o.AckRequired || o.Urgency != securestore.UrgencyNormal
}

// declined reports a decline of m among events.
func declined(events []sync.Event, m securestore.Message) (outcome, bool) {
	for _, e := range events {
		r, ok := e.(sync.ResponseReceived)
		if !ok || r.Own || r.Kind != sync.ResponseDecline {
			continue
		}
		if r.To == m.ID || r.To == 0 && r.Message.Extra[sync.ExtraResponseTo] == m.OriginID {
			who := r.From
			if who == "" {
				who = m.ConversationID
			}
			return outcome{state: securestore.ReceiptFailed, at: r.At, who: who}, true
		}
	}
	return outcome{}, false
}

// otherResponses are the answers to m that neither acknowledge nor decline
// it ("call me", "5 minutes", free text, a plain-text reply from a client
// without Rounds): worth telling the operator, not an end to the wait.
func otherResponses(events []sync.Event, m securestore.Message) []sync.ResponseReceived {
	var out []sync.ResponseReceived
	for _, e := range events {
		r, ok := e.(sync.ResponseReceived)
		if !ok || r.Own || r.To != m.ID || r.Kind == sync.ResponseAck || r.Kind == sync.ResponseDecline {
			continue
		}
		out = append(out, r)
	}
	return out
}

// reportResponse prints one answer on stderr, one line: a quick response by
// its kind, a text (typed in Rounds, or a plain reply from another client)
// quoted, with line breaks and control characters escaped. The operator who
// sent the page asked for it (docs/CLI.md); it goes to no log.
func reportResponse(stderr io.Writer, r sync.ResponseReceived) {
	at := r.At.UTC().Format(time.RFC3339)
	if r.ByText {
		fmt.Fprintf(stderr, "%s replied %q at %s\n", r.From, r.Text, at)
		return
	}
	if r.Kind == sync.ResponseText {
		fmt.Fprintf(stderr, "%s replied %q at %s\n", r.From, r.Message.Body, at)
		return
	}
	fmt.Fprintf(stderr, "%s answered %q at %s\n", r.From, r.Kind, at)
}

// ackedHow is the note after an acknowledgement that was not a Rounds
// acknowledgement: " (by text reply)".
func ackedHow(m securestore.Message, o outcome) string {
	if o.state == securestore.ReceiptAcknowledged && o.who == m.ConversationID && m.Extra[sync.ExtraAckBy] != "" {
		return " (by " + m.Extra[sync.ExtraAckBy] + ")"
	}
	return ""
}

// applyTextAckPolicy hands the published policy's <text-ack/> to the engine
// before a page that asks for an acknowledgement, as every Rounds device
// does: whether a plain "ack" from a client without Rounds counts, and which
// words. No policy published, or none saying anything: the engine's
// defaults. A policy that cannot be read switches text acknowledgements off
// (it may be the one that forbids them) and says so.
func applyTextAckPolicy(ctx context.Context, b *bot, stderr io.Writer) {
	el, err := currentItem(ctx, b, sync.NodePolicy)
	if err == nil && el == nil {
		return
	}
	var p xmpp.OrgPolicy
	if err == nil {
		p, err = xmpp.ParseOrgPolicy(el)
	}
	if err != nil {
		fmt.Fprintf(stderr, "note: the published policy could not be read (%v); a text reply will not count as an acknowledgement\n", err)
		b.session.SetTextAck(sync.TextAckRules{Off: true})
		return
	}
	if t := p.TextAck; t != nil {
		b.session.SetTextAck(sync.TextAckRules{Off: !t.Allowed, Words: t.Words})
	}
}

// currentItem fetches item "current" of node; nil if nothing is published.
func currentItem(ctx context.Context, b *bot, node string) (*xmpp.Element, error) {
	items, err := b.session.FetchNode(ctx, node)
	var se *xmpp.StanzaError
	if errors.As(err, &se) && se.Condition == "item-not-found" {
		return nil, nil // the node was never created: nothing published
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", node, err)
	}
	for _, it := range items {
		if it.ID == itemCurrent && it.Payload != nil {
			return it.Payload, nil
		}
	}
	return nil, nil
}

// fetchSchedule reads the published on-call schedule.
func fetchSchedule(ctx context.Context, b *bot) ([]shift, error) {
	el, err := currentItem(ctx, b, sync.NodeOnCall)
	if err != nil {
		return nil, err
	}
	if el == nil {
		return nil, fail(ExitRefused, "no on-call schedule is published; not sent")
	}
	wire, err := xmpp.ParseSchedule(el)
	if err != nil {
		return nil, fail(ExitRefused, "the published on-call schedule does not read: %v; not sent", err)
	}
	out := make([]shift, len(wire))
	for i, s := range wire {
		out[i] = shift{Role: s.Role, JID: s.JID, From: s.From, Until: s.Until, Backup: s.Backup, Orders: s.Orders}
	}
	return out, nil
}

// orderRecipients is the specified contact list at now: the policy's
// order-recipients and whoever holds a shift with orders=true.
func orderRecipients(ctx context.Context, b *bot, now time.Time) ([]string, error) {
	var out []string
	el, err := currentItem(ctx, b, sync.NodePolicy)
	if err != nil {
		return nil, err
	}
	if el != nil {
		p, err := xmpp.ParseOrgPolicy(el)
		if err != nil {
			return nil, fail(ExitRefused, "the published policy does not read: %v; order not sent", err)
		}
		out = append(out, p.OrderRecipients...)
	}
	if sched, err := currentItem(ctx, b, sync.NodeOnCall); err == nil && sched != nil {
		if shifts, err := xmpp.ParseSchedule(sched); err == nil {
			for _, s := range shifts {
				if s.Orders && !now.Before(s.From) && now.Before(s.Until) {
					out = append(out, s.JID)
				}
			}
		}
	}
	return out, nil
}

// A published item reaches the devices wrapped in a pubsub answer or event
// (iq/pubsub/items/item, a few hundred bytes and four elements). The publish
// itself must pass the server's limit on what a client may send (Prosody's
// c2s_stanza_size_limit and ejabberd's max_stanza_size, both 256 KiB in
// their shipped configurations: serverStanzaBytes), and a device skips, as
// unreadable, a frame with more than xmpp.DefaultMaxElements elements. A
// payload that only just fits would be refused by the server or skipped by
// every device, so the schedule leaves this room for the wrapper.
const (
	serverStanzaBytes   = 256 << 10
	itemWrapperBytes    = 4 << 10
	itemWrapperElements = 16
	maxScheduleBytesOut = serverStanzaBytes - itemWrapperBytes
	maxScheduleElements = xmpp.DefaultMaxElements - itemWrapperElements
)

// checkSchedulePayload reads the payload back with the clients' own decoder,
// so what is published is what every device will read, and refuses one too
// large to reach them inside a pubsub item.
func checkSchedulePayload(el *xmpp.Element) error {
	doc := el.String()
	shifts := len(el.ChildrenNamed(nsOnCall, "shift"))
	if len(doc) > maxScheduleBytesOut || shifts+1 > maxScheduleElements {
		fit := shifts
		if len(doc) > maxScheduleBytesOut {
			fit = int(int64(shifts) * maxScheduleBytesOut / int64(len(doc)))
		}
		fit = min(fit, maxScheduleElements-1)
		return fmt.Errorf("the schedule is %d shifts (%d KiB); devices read at most %d KiB per published item, about %d shifts like these: publish a shorter period (e.g. the next two weeks) and publish again before it runs out",
			shifts, (len(doc)+1023)>>10, maxScheduleBytesOut>>10, fit)
	}
	back, err := xmpp.DecodeSchedule([]byte(doc))
	if err != nil {
		return fmt.Errorf("the schedule would not read on the devices: %w", err)
	}
	if len(back) != shifts {
		return fmt.Errorf("the devices would read %d of %d shifts", len(back), shifts)
	}
	return nil
}

// decodePolicy checks a policy document with the clients' decoder and
// returns the element to publish.
func decodePolicy(data []byte) (*xmpp.Element, error) {
	el, err := decodeXMLFile(data)
	if err != nil {
		return nil, err
	}
	if el.Name.Space != nsPolicy || el.Name.Local != "policy" {
		return nil, fmt.Errorf("the root element is {%s}%s, want <policy xmlns='%s'>", el.Name.Space, el.Name.Local, nsPolicy)
	}
	if _, err := xmpp.ParseOrgPolicy(el); err != nil {
		return nil, err
	}
	return el, nil
}

// publish puts payload as item "current" of node, replacing what was there.
func publish(ctx context.Context, b *bot, node string, payload *xmpp.Element, timeout time.Duration) error {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := b.session.PublishNode(pctx, node, itemCurrent, payload); err != nil {
		return fmt.Errorf("publishing to %s: %w", node, err)
	}
	return nil
}

// sendWipe sends the wipe directive and waits until the server has it (it
// then reaches every online device at once and offline ones when they
// connect). The directive is stored in the outbox first, like any message.
func sendWipe(ctx context.Context, b *bot, to string, timeout time.Duration, stdout, stderr io.Writer) error {
	if err := b.session.SendWipe(ctx, to); err != nil {
		return fmt.Errorf("wipe: %w", err)
	}
	// SendWipe returns once the directive is stored: find it there.
	recent, err := b.store.Latest(xmpp.BareJID(to), 20)
	if err != nil {
		return fmt.Errorf("wipe: %w", err)
	}
	for i := len(recent) - 1; i >= 0; i-- {
		if m := recent[i]; m.Direction == securestore.Outgoing && m.Extra[sync.ExtraWipe] != "" {
			return waitFor(ctx, b, m, securestore.ReceiptSent, timeout, stdout, stderr)
		}
	}
	return errors.New("wipe: the directive was not stored")
}

// verifyAuditExport checks an audit export with the app's verifier and says
// which key signed it.
func verifyAuditExport(r io.Reader) (app.AuditExportInfo, error) { return app.VerifyAuditExportInfo(r) }

var errAuditTampered = app.ErrAuditTampered
