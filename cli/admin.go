package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"rounds/app"
)

// adminFlags are the options of `rounds admin ...`.
type adminFlags struct {
	accountFlags
	dryRun bool
}

func (a *adminFlags) flagSet(name string, stderr io.Writer, dry bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	a.register(fs)
	if dry {
		fs.BoolVar(&a.dryRun, "dry-run", false, "check the file and print what would be published; do not sign in")
	}
	return fs
}

// publishOnCallCommand publishes an on-call schedule from CSV or iCalendar to
// the on-call node, replacing the current one. The whole file is checked
// first: a schedule with one bad row is not published at all.
func publishOnCallCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var a adminFlags
	fs := a.flagSet("rounds admin publish-oncall", stderr, true)
	pos, err := parseFlagsArgs(fs, args, 1)
	if err != nil {
		return err
	}
	fh, err := os.Open(pos[0])
	if err != nil {
		return fail(ExitUsage, "%v", err)
	}
	shifts, err := readSchedule(pos[0], fh)
	fh.Close()
	if err != nil {
		return withCode(ExitUsage, err)
	}
	payload := scheduleElement(shifts)
	if err := app.CheckScheduleDocument(payload); err != nil {
		return withCode(ExitUsage, err)
	}
	// A rota that starts tomorrow is valid, but until then a page to its
	// roles is refused: say so before anyone relies on it.
	if empty := uncoveredRoles(shifts, time.Now()); len(empty) > 0 {
		fmt.Fprintf(stderr, "warning: nobody holds %s now (no shift covers %s); pages to these roles are refused until a shift covers them\n",
			strings.Join(empty, ", "), time.Now().UTC().Format(time.RFC3339))
	}
	return a.publishOrShow(ctx, nsOnCall, payload, fmt.Sprintf("published %d shifts to %s", len(shifts), nsOnCall), stdout, stderr)
}

// publishPolicyCommand publishes the organisation policy after decoding it
// exactly as every client will: a policy clients would reject is never
// published.
func publishPolicyCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var a adminFlags
	fs := a.flagSet("rounds admin publish-policy", stderr, true)
	pos, err := parseFlagsArgs(fs, args, 1)
	if err != nil {
		return err
	}
	payload, err := readPolicyFile(pos[0])
	if err != nil {
		return withCode(ExitUsage, err)
	}
	return a.publishOrShow(ctx, nsPolicy, payload, "published the policy to "+nsPolicy, stdout, stderr)
}

// publishOrShow prints the checked payload (--dry-run) or signs in as the
// admin account and publishes it to node, then prints done.
func (a *adminFlags) publishOrShow(ctx context.Context, node string, payload *app.Document, done string, stdout, stderr io.Writer) error {
	if a.dryRun {
		fmt.Fprintln(stdout, payload.String())
		return nil
	}
	b, err := signIn(ctx, a.accountFlags, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	if err := publish(ctx, b, node, payload, a.connectTimeout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, done)
	return nil
}

// maxPolicySize bounds a policy file.
const maxPolicySize = 64 << 10

// readPolicyFile decodes policy.xml with the client's own decoder and policy
// parser.
func readPolicyFile(path string) (*app.Document, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxPolicySize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPolicySize {
		return nil, fmt.Errorf("%s: larger than %d KiB", path, maxPolicySize>>10)
	}
	el, err := app.PolicyDocument(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return el, nil
}

// wipeCommand sends a remote-wipe directive to every device of a user.
func wipeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var a adminFlags
	fs := a.flagSet("rounds admin wipe", stderr, false)
	pos, err := parseFlagsArgs(fs, args, 1)
	if err != nil {
		return err
	}
	who, err := checkPerson(pos[0])
	if err != nil {
		return fail(ExitUsage, "%q: %v", pos[0], err)
	}
	b, err := signIn(ctx, a.accountFlags, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	if err := sendWipe(ctx, b, who, a.connectTimeout, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wipe directive for %s is on the server; devices act on it only if %s is a policy admin\n", who, b.account)
	return nil
}
