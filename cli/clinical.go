package cli

import (
	"context"
	"fmt"
	"io"
	"rounds/app"
	"time"
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

// publish puts payload as item "current" of node, replacing what was there.
func publish(ctx context.Context, b *bot, node string, payload *app.Document, timeout time.Duration) error {
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
