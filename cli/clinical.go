package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"rounds/app"
	"time"

	"rounds/sync/xmpp"
)

// The clinical parts of the command line: what a page asks of the recipient,
// the on-call and policy nodes, wipe. The wire formats are sync/xmpp's
// (docs/PROTOCOL.md); the checks are the ones every Rounds device makes.

// reportResponse prints one answer on stderr, one line: a quick response by
// its kind, a text (typed in Rounds, or a plain reply from another client)
// quoted, with line breaks and control characters escaped. The operator who
// sent the page asked for it (docs/CLI.md); it goes to no log.
func reportResponse(stderr io.Writer, a app.Answer) {
	at := a.At.UTC().Format(time.RFC3339)
	if a.IsText {
		fmt.Fprintf(stderr, "%s replied %q at %s\n", a.From, a.Text, at)
		return
	}
	fmt.Fprintf(stderr, "%s answered %q at %s\n", a.From, a.Kind, at)
}

// ackedHow is the note after an acknowledgement that was not a Rounds
// acknowledgement: " (by text reply)".
func ackedHow(o app.Progress) string {
	if o.State == app.ReceiptAcknowledged && o.By != "" {
		return " (by " + o.By + ")"
	}
	return ""
}

// fetchSchedule reads the published on-call schedule.
func fetchSchedule(ctx context.Context, b *bot) ([]shift, error) {
	wire, err := b.client.PublishedSchedule(ctx)
	var bad *app.UnreadableNodeError
	switch {
	case errors.Is(err, app.ErrNothingPublished):
		return nil, fail(ExitRefused, "no on-call schedule is published; not sent")
	case errors.As(err, &bad):
		return nil, fail(ExitRefused, "the published on-call schedule does not read: %v; not sent", bad.Err)
	case err != nil:
		return nil, err
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
	p, err := b.client.PublishedPolicy(ctx)
	var bad *app.UnreadableNodeError
	switch {
	case errors.As(err, &bad):
		return nil, fail(ExitRefused, "the published policy does not read: %v; order not sent", bad.Err)
	case err != nil:
		return nil, err
	case p != nil:
		out = append(out, p.OrderRecipients...)
	}
	{
		if shifts, err := b.client.PublishedSchedule(ctx); err == nil {
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
	if err := b.client.PublishDocument(pctx, node, payload); err != nil {
		return fmt.Errorf("publishing to %s: %w", node, err)
	}
	return nil
}

// sendWipe sends the wipe directive and waits until the server has it (it
// then reaches every online device at once and offline ones when they
// connect). The directive is stored in the outbox first, like any message.
func sendWipe(ctx context.Context, b *bot, to string, timeout time.Duration, stdout, stderr io.Writer) error {
	id, err := b.client.SendWipe(ctx, to)
	if err != nil {
		return fmt.Errorf("wipe: %w", err)
	}
	return waitFor(ctx, b, id, app.ReceiptSent, timeout, stdout, stderr)
}

// verifyAuditExport checks an audit export with the app's verifier and says
// which key signed it.
func verifyAuditExport(r io.Reader) (app.AuditExportInfo, error) { return app.VerifyAuditExportInfo(r) }

var errAuditTampered = app.ErrAuditTampered
