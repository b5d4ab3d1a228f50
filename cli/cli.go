package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `usage:
  rounds send   --account BOT --secret-file FILE (--to JID | --room JID | --role ROLE)
                [--urgency routine|urgent|stat] [--ack] [--order] [--wait sent|delivered|read|ack]
                [--timeout 5m] [--text-file FILE]            (message on stdin otherwise)
  rounds admin publish-policy --account ADMIN --secret-file FILE [--dry-run] policy.xml
  rounds admin publish-oncall --account ADMIN --secret-file FILE [--dry-run] schedule.csv|schedule.ics
  rounds admin wipe           --account ADMIN --secret-file FILE user@domain
  rounds admin sample         --domain DOMAIN [--write DIR]     (a policy and a rota starting this hour)
  rounds admin check          --account CHECK-USER --secret-file FILE [--domain DOMAIN]
  rounds admin server-config  --server prosody|ejabberd --domain DOMAIN [--public-host NAME] [--behind-proxy] [--write DIR]
  rounds audit verify [--key FINGERPRINT] EXPORT.json|EXPORT.csv
  rounds secret set --account ACCOUNT                        (password on stdin, filed in the OS keyring)
Passwords never go on the command line: --secret-file (mode 600) or --keyring.
Run a command with -h for its options. Exit codes: 0 done, 1 failure, 2 usage,
3 bad credentials, 4 server unreachable, 5 timed out, 6 declined, 7 refused.
`

// Commands are the first arguments Main answers to; main.go hands os.Args
// over when os.Args[1] is one of them.
var Commands = []string{"send", "admin", "audit", "secret"}

// IsCommand reports whether arg names one of the command-line tools, so the
// desktop binary can run them instead of opening a window.
func IsCommand(arg string) bool {
	for _, c := range Commands {
		if arg == c {
			return true
		}
	}
	return false
}

// Main runs one command (args without the program name, e.g. ["send",
// "--to", ...]) and returns the process exit code. Errors go to stderr as
// one line; results to stdout.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := run(ctx, args, stdin, stdout, stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(stderr, "rounds:", err)
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitUsage
	}
	return codeOf(err)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, rest := args[0], args[1:]
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case cmd == "send":
		return sendCommand(ctx, rest, stdin, stdout, stderr)
	case cmd == "admin" && sub == "publish-policy":
		return publishPolicyCommand(ctx, rest[1:], stdout, stderr)
	case cmd == "admin" && sub == "publish-oncall":
		return publishOnCallCommand(ctx, rest[1:], stdout, stderr)
	case cmd == "admin" && sub == "sample":
		return sampleCommand(rest[1:], stdout, stderr)
	case cmd == "admin" && sub == "check":
		return checkCommand(ctx, rest[1:], stdout, stderr)
	case cmd == "admin" && sub == "server-config":
		return serverConfigCommand(rest[1:], stdout, stderr)
	case cmd == "admin" && sub == "wipe":
		return wipeCommand(ctx, rest[1:], stdout, stderr)
	case cmd == "audit" && sub == "verify":
		return auditVerifyCommand(rest[1:], stdout, stderr)
	case cmd == "secret" && sub == "set":
		return secretSetCommand(rest[1:], stdin, stderr)
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fail(ExitUsage, "unknown command %q", strings.TrimSpace(strings.Join(args[:min(2, len(args))], " ")))
}

// parseFlags parses flags wherever they stand among the arguments (`rounds
// admin wipe user@x --account a` works as well as the flags-first form) and
// returns the positional arguments, which must number exactly positional.
func parseFlags(fs *flag.FlagSet, args []string, positional int) error {
	_, err := parseFlagsArgs(fs, args, positional)
	return err
}

func parseFlagsArgs(fs *flag.FlagSet, args []string, positional int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, withCode(ExitUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != positional {
		return nil, fail(ExitUsage, "%s: want %d argument(s), got %d (%s)", fs.Name(), positional, len(pos), strings.Join(pos, " "))
	}
	return pos, nil
}

// auditVerifyCommand checks an audit export handed to a reviewer.
func auditVerifyCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rounds audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("key", "", "the device's audit key fingerprint on record: the export must be signed by it")
	pos, err := parseFlagsArgs(fs, args, 1)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fail(ExitUsage, "%v", err)
	}
	defer f.Close()
	info, err := verifyAuditExport(f)
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer(" ", "", ":", "").Replace(s)) }
	switch {
	case err == nil && *key != "" && norm(*key) != norm(info.KeyFingerprint):
		return fail(ExitFailure, "%s: signed by key %s, not the device's key %s", pos[0], info.KeyFingerprint, *key)
	case err == nil:
		fmt.Fprintf(stdout, "%s: the audit log verifies: %d entries of %s, exported %s, signed by key %s\n",
			pos[0], info.Entries, info.Account, info.Exported.UTC().Format("2006-01-02 15:04:05Z"), info.KeyFingerprint)
		if *key == "" {
			fmt.Fprintln(stdout, "Compare the key with the device's audit key on record (or pass --key): anyone can sign a forged export with a key of their own.")
		}
		return nil
	case errors.Is(err, errAuditTampered):
		return fail(ExitFailure, "%s: %v", pos[0], err)
	}
	return fail(ExitUsage, "%s: %v", pos[0], err)
}

// secretSetCommand files a bot's password in the OS keyring from stdin.
func secretSetCommand(args []string, stdin io.Reader, stderr io.Writer) error {
	fs := flag.NewFlagSet("rounds secret set", flag.ContinueOnError)
	fs.SetOutput(stderr)
	account := fs.String("account", "", "the account whose password is on stdin")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	j, err := checkPerson(*account)
	if err != nil {
		return fail(ExitUsage, "--account %q: %v", *account, err)
	}
	pw, err := readSecretStdin(stdin)
	if err != nil {
		return fail(ExitUsage, "%v", err)
	}
	if err := keyringSet(j, pw); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	fmt.Fprintf(stderr, "password for %s filed in the OS keyring (service %q)\n", j, keyringService)
	return nil
}
