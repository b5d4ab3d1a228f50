package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"rounds/app"
)

// maxBodySize bounds a message read from stdin or a file; Rounds messages are
// short, and the server's stanza limit is 256 KiB.
const maxBodySize = 64 << 10

// sendFlags are `rounds send`'s options.
type sendFlags struct {
	accountFlags
	to, room, role string
	broadcast      string // comma-separated addresses
	broadcastRole  string
	urgency        string
	ack, order     bool
	escalate       bool
	wait           string
	timeout        time.Duration
	textFile       string
	nick           string
}

var waitStates = map[string]app.ReceiptState{
	"sent": app.ReceiptSent, "delivered": app.ReceiptDelivered,
	"read": app.ReceiptRead, "ack": app.ReceiptAcknowledged,
	"acknowledged": app.ReceiptAcknowledged,
}

var urgencies = map[string]app.Urgency{
	"routine": app.UrgencyNormal, "urgent": app.UrgencyHigh, "stat": app.UrgencyCritical,
}

// handOffTimeout bounds --escalate's wait for the service's confirmation.
const handOffTimeout = 30 * time.Second

func sendCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var f sendFlags
	fs := flag.NewFlagSet("rounds send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.StringVar(&f.to, "to", "", "send to this person (user@domain)")
	fs.StringVar(&f.room, "room", "", "send to this room (room@conference.domain); the account joins it")
	fs.StringVar(&f.role, "role", "", `send to whoever holds this role now, from the on-call schedule (e.g. "Cardiology on call")`)
	fs.StringVar(&f.broadcast, "broadcast", "", "send to each of these people (a@x,b@x), one message each, tracked as one broadcast")
	fs.StringVar(&f.broadcastRole, "broadcast-role", "", `send to everyone holding this role now, one message each (with --broadcast: both)`)
	fs.StringVar(&f.urgency, "urgency", "routine", "routine, urgent or stat (urgent and stat always ask for an acknowledgement)")
	fs.BoolVar(&f.ack, "ack", false, "ask the recipient to acknowledge")
	fs.BoolVar(&f.escalate, "escalate", false, "hand the acknowledgement ladder to the hospital's escalation service (the org policy's) and exit once it confirms; implies --ack")
	fs.BoolVar(&f.order, "order", false, "the message is a clinical order: refused unless the recipient may receive orders")
	fs.StringVar(&f.wait, "wait", "sent", "wait until the message is sent (the server has it), delivered, read or ack(nowledged)")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long to wait for --wait's state (exit 5 after)")
	fs.StringVar(&f.textFile, "text-file", "", "read the message from this file (default: stdin)")
	fs.StringVar(&f.nick, "nick", "", "nickname in --room (default: the account's local part)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: rounds send --account BOT --secret-file FILE (--to JID | --room JID | --role ROLE | --broadcast JID,JID | --broadcast-role ROLE) [options] < message.txt")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	targets := 0
	for _, v := range []string{f.to, f.room, f.role, f.broadcast + f.broadcastRole} {
		if strings.TrimSpace(v) != "" {
			targets++
		}
	}
	if targets != 1 {
		return fail(ExitUsage, "give exactly one of --to, --room, --role, --broadcast/--broadcast-role")
	}
	want, ok := waitStates[strings.ToLower(f.wait)]
	if !ok {
		return fail(ExitUsage, "--wait %q: want sent, delivered, read or ack", f.wait)
	}
	urgency, ok := urgencies[strings.ToLower(f.urgency)]
	if !ok {
		return fail(ExitUsage, "--urgency %q: want routine, urgent or stat", f.urgency)
	}
	if f.timeout <= 0 {
		return fail(ExitUsage, "--timeout must be positive")
	}
	isBroadcast := strings.TrimSpace(f.broadcast+f.broadcastRole) != ""
	if f.order && isBroadcast {
		return fail(ExitRefused, "an order goes to one authorised person, not to a broadcast")
	}
	if f.escalate && isBroadcast {
		return fail(ExitUsage, "--escalate: each message of a broadcast escalates from this account's devices, not through the service")
	}
	var list []string
	for _, a := range strings.Split(f.broadcast, ",") {
		if strings.TrimSpace(a) == "" {
			continue
		}
		j, err := checkPerson(a)
		if err != nil {
			return fail(ExitUsage, "--broadcast %q: %v", a, err)
		}
		list = append(list, j)
	}
	if f.order && f.room != "" {
		return fail(ExitRefused, "an order goes to one authorised person, not to a room")
	}
	if f.escalate && f.room != "" {
		return fail(ExitUsage, "--escalate: a page to a room is escalated by its members' devices, not handed to the service")
	}
	for _, p := range []*string{&f.to, &f.room} {
		if *p == "" {
			continue
		}
		j, err := checkPerson(*p)
		if err != nil {
			return fail(ExitUsage, "%q: %v", *p, err)
		}
		*p = j
	}
	body, err := readBody(f.textFile, stdin)
	if err != nil {
		return err
	}

	b, err := signIn(ctx, f.accountFlags, stderr)
	if err != nil {
		return err
	}
	defer b.close()

	// Reading the on-call and policy nodes is bounded like signing in.
	nctx, cancelNodes := context.WithTimeout(ctx, f.connectTimeout)
	defer cancelNodes()
	if isBroadcast {
		return sendBroadcast(ctx, nctx, b, f, list, body, want, urgency, stdout, stderr)
	}
	conv := f.to
	switch {
	case f.role != "":
		holder, until, err := roleHolder(nctx, b, f.role, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s is held by %s until %s\n", f.role, holder, until.UTC().Format(time.RFC3339))
		conv = holder
	case f.room != "":
		nick := f.nick
		if nick == "" {
			nick, _, _ = strings.Cut(b.account, "@")
		}
		jctx, cancel := context.WithTimeout(ctx, f.connectTimeout)
		err := b.client.EnterRoom(jctx, f.room, nick)
		cancel()
		if err != nil {
			return fail(ExitRefused, "could not join %s: %v", f.room, err)
		}
		// Leave when done: a remembered room is rejoined (and its archive
		// read) at every later sign-in, which would slow every page after.
		defer func() {
			lctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = b.client.LeaveRoom(lctx, f.room)
		}()
		conv = f.room
	}
	if f.order {
		if err := checkOrderRecipient(nctx, b, conv); err != nil {
			return err
		}
	}
	// Waiting for an acknowledgement means asking for one.
	opts := app.PageOptions{Urgency: urgency, AckRequired: f.ack || f.escalate || want == app.ReceiptAcknowledged, Order: f.order, Role: f.role}
	if opts.AsksAck() && want < app.ReceiptAcknowledged && !f.escalate {
		fmt.Fprintln(stderr, "note: this message asks for an acknowledgement; use --wait ack to wait for it")
	}
	if opts.AsksAck() {
		if err := b.client.FollowPublishedTextAck(nctx); err != nil {
			fmt.Fprintf(stderr, "note: the published policy could not be read (%v); a text reply will not count as an acknowledgement\n", err)
		}
	}
	id, err := b.client.SendPage(conv, body, opts)
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}
	if f.escalate {
		hctx, cancel := context.WithTimeout(ctx, f.connectTimeout)
		svc, err := b.client.HandOffPage(hctx, id, min(f.timeout, handOffTimeout))
		cancel()
		switch {
		case errors.Is(err, app.ErrHandOffUnconfirmed):
			return fail(ExitTimedOut, "sent, but %s did not confirm the escalation in time: the page escalates only if the service takes it up when it is back", svc)
		case err != nil:
			return fail(ExitRefused, "sent, but not escalated: %v", err)
		}
		fmt.Fprintf(stderr, "escalation held by %s\n", svc)
	}
	return waitFor(ctx, b, id, want, f.timeout, stdout, stderr)
}

// sendBroadcast sends one message to each of list and of the role group,
// then waits for each to reach want within one --timeout, one line per
// recipient on stdout ("delivered bob@x 2026-…"). The exit code is the
// worst outcome: not sent or failed, declined, timed out.
func sendBroadcast(ctx, nctx context.Context, b *bot, f sendFlags, list []string, body string, want app.ReceiptState,
	urgency app.Urgency, stdout, stderr io.Writer) error {
	opts := app.PageOptions{Urgency: urgency, AckRequired: f.ack || want == app.ReceiptAcknowledged}
	if opts.AsksAck() {
		if err := b.client.FollowPublishedTextAck(nctx); err != nil {
			fmt.Fprintf(stderr, "note: the published policy could not be read (%v); a text reply will not count as an acknowledgement\n", err)
		}
	}
	v, err := b.client.SendHeadlessBroadcast(nctx, list, f.broadcastRole, body, opts)
	switch {
	case errors.Is(err, app.ErrNoRecipients), errors.Is(err, app.ErrTooManyRecipients):
		return fail(ExitUsage, "%v", err)
	case err != nil && f.broadcastRole != "":
		if rerr := roleError(err, f.broadcastRole, time.Now()); rerr != err {
			return rerr
		}
		return fmt.Errorf("broadcast: %w", err)
	case err != nil:
		return fmt.Errorf("broadcast: %w", err)
	}
	fmt.Fprintf(stderr, "broadcast %s to %d people\n", v.ID, len(v.Recipients))
	deadline := time.Now().Add(f.timeout)
	var worst error
	rank := func(code int) int { return map[int]int{ExitTimedOut: 1, ExitDeclined: 2, ExitRefused: 3}[code] }
	note := func(code int, format string, a ...any) {
		var cur *exitError
		if worst == nil || (errors.As(worst, &cur) && rank(code) > rank(cur.code)) {
			worst = fail(code, format, a...)
		}
	}
	for _, r := range v.Recipients {
		if r.Message == 0 {
			fmt.Fprintf(stdout, "not-sent %s\n", r.JID)
			note(ExitRefused, "not sent to %s: %s", r.JID, r.State)
			continue
		}
		o, end, err := b.client.WaitFor(ctx, r.Message, want, max(time.Until(deadline), time.Millisecond), func(a app.Answer) { reportResponse(stderr, a) })
		if err != nil {
			return err
		}
		at := o.At.UTC().Format(time.RFC3339)
		switch end {
		case app.Reached:
			fmt.Fprintf(stdout, "%s %s %s%s\n", o.State, r.JID, at, ackedHow(o))
		case app.Declined:
			fmt.Fprintf(stdout, "declined %s %s\n", r.JID, at)
			note(ExitDeclined, "%s declined the message", r.JID)
		case app.Failed:
			fmt.Fprintf(stdout, "failed %s %s\n", r.JID, at)
			note(ExitRefused, "not delivered to %s: %s", r.JID, o.Reason)
		default:
			fmt.Fprintf(stdout, "%s %s %s\n", o.State, r.JID, at)
			note(ExitTimedOut, "timed out waiting for %s from %s; reached %s", want, r.JID, o.State)
		}
	}
	return worst
}

// readBody reads the message text; it never comes from argv, where every
// user of the machine could read it.
func readBody(file string, stdin io.Reader) (string, error) {
	r := stdin
	if file != "" && file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return "", fail(ExitUsage, "--text-file: %v", err)
		}
		defer fh.Close()
		r = fh
	}
	b, err := io.ReadAll(io.LimitReader(r, maxBodySize+1))
	if err != nil {
		return "", fail(ExitUsage, "reading the message: %v", err)
	}
	if len(b) > maxBodySize {
		return "", fail(ExitUsage, "message longer than %d KiB", maxBodySize>>10)
	}
	body := strings.TrimRight(string(b), "\r\n")
	if strings.TrimSpace(body) == "" {
		return "", fail(ExitUsage, "empty message (give it on stdin or with --text-file)")
	}
	return body, nil
}

// waitFor waits until the message reaches want, fails, is declined, or the
// timeout passes, and prints one line on stdout: "<state> <who> <time>".
func waitFor(ctx context.Context, b *bot, id app.MessageID, want app.ReceiptState, timeout time.Duration, stdout, stderr io.Writer) error {
	o, end, err := b.client.WaitFor(ctx, id, want, timeout, func(a app.Answer) { reportResponse(stderr, a) })
	if err != nil {
		return err
	}
	at := o.At.UTC().Format(time.RFC3339)
	switch end {
	case app.Declined:
		fmt.Fprintf(stdout, "declined %s %s\n", o.Who, at)
		return fail(ExitDeclined, "%s declined the message", o.Who)
	case app.Failed:
		fmt.Fprintf(stdout, "failed %s %s\n", o.Who, at)
		return fail(ExitRefused, "not delivered: %s", o.Reason)
	case app.Reached:
		fmt.Fprintf(stdout, "%s %s %s%s\n", o.State, o.Who, at, ackedHow(o))
		return nil
	case app.TimedOut:
		fmt.Fprintf(stdout, "%s %s %s\n", o.State, o.Who, at)
		if o.State < app.ReceiptSent {
			return fail(ExitTimedOut, "timed out waiting for %s: the server never confirmed the message (state %s)", want, o.State)
		}
		return fail(ExitTimedOut, "timed out waiting for %s; reached %s at %s", want, o.State, at)
	}
	return fail(ExitTimedOut, "interrupted while waiting for %s; reached %s", want, o.State)
}

// roleHolder finds who holds role now in the published on-call schedule,
// the way every Rounds device does (app.Client.PublishedRoleHolder): shifts
// cover [from, until); where two overlap (an early handover) the one that
// started last holds the role; a shift that names no holder is covered by
// its backup.
func roleHolder(ctx context.Context, b *bot, role string, now time.Time) (string, time.Time, error) {
	holder, until, err := b.client.PublishedRoleHolder(ctx, role)
	return holder, until, roleError(err, role, now)
}

// roleError says why a role could not be paged, with its exit code.
func roleError(err error, role string, now time.Time) error {
	var bad *app.UnreadableNodeError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, app.ErrNothingPublished):
		return fail(ExitRefused, "no on-call schedule is published; not sent")
	case errors.As(err, &bad):
		return fail(ExitRefused, "the published on-call schedule does not read: %v; not sent", bad.Err)
	case errors.Is(err, app.ErrRoleNotInSchedule):
		return fail(ExitRefused, "no role %q in the on-call schedule; not sent", strings.TrimSpace(role))
	case errors.Is(err, app.ErrRoleUnstaffed):
		return fail(ExitRefused, "nobody holds %q now (%s); not sent", strings.TrimSpace(role), now.UTC().Format(time.RFC3339))
	}
	return err
}

// checkOrderRecipient refuses an order to anyone not on the specified contact
// list: the policy's order-recipients, or whoever holds a shift marked
// orders=true right now (app.Client.CheckPublishedOrderRecipient).
func checkOrderRecipient(ctx context.Context, b *bot, to string) error {
	err := b.client.CheckPublishedOrderRecipient(ctx, to)
	var bad *app.UnreadableNodeError
	switch {
	case errors.As(err, &bad):
		return fail(ExitRefused, "the published policy does not read: %v; order not sent", bad.Err)
	case errors.Is(err, app.ErrNotOrderRecipient):
		return fail(ExitRefused, "%s is not on the specified contact list for orders; not sent", to)
	}
	return err
}
