// Command rounds-escalation is the hospital's escalation service: it holds
// the escalation ladders Rounds devices hand to it and fires their steps
// while the sender's device is off (docs/ADMIN.md, "Escalation service").
// It signs in as an ordinary XMPP account; the work is package escalation's.
//
//	rounds-escalation -dir /var/lib/rounds-escalation -url wss://xmpp.hospital.org/xmpp-websocket \
//	    -account escalation@hospital.org -password-file /etc/rounds-escalation/password
//	rounds-escalation -dir /var/lib/rounds-escalation -export-audit > ladders-audit.jsonl
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"rounds/escalation"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("rounds-escalation", flag.ContinueOnError)
	var o escalation.Options
	var passwordFile string
	fs.StringVar(&o.Dir, "dir", "", "state directory (store, key, audit log)")
	fs.StringVar(&o.KeyFile, "key-file", "", "the store's key, kept apart from -dir (default: -dir/escalation.key; created on first start)")
	fs.StringVar(&o.URL, "url", "", "the XMPP server's WebSocket URL (wss://…)")
	fs.StringVar(&o.Account, "account", "", "the service's account, as the org policy names it (escalation@hospital.org)")
	fs.StringVar(&passwordFile, "password-file", "", "file holding the account's password (or $ROUNDS_ESCALATION_PASSWORD)")
	fs.StringVar(&o.Resource, "resource", "", "this instance's name (default escalation-<host>)")
	exportAudit := fs.Bool("export-audit", false, "write the audit log of -dir's store to stdout as JSON lines (verified first; stop the service first) and exit")
	fs.DurationVar(&o.Lease, "lease", 0, "run as one of several instances on the account: the lease's length (e.g. 30s); 0: the only instance")
	fs.DurationVar(&o.Retention, "retention", escalation.DefaultRetention, "how long a ladder nobody acknowledged stays (listed, without its text) after it ran out; the org policy's <retention days/> applies when shorter")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *exportAudit {
		if err := escalation.ExportAudit(o.Dir, o.KeyFile, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "rounds-escalation:", err)
			return 1
		}
		return 0
	}
	o.Password = os.Getenv("ROUNDS_ESCALATION_PASSWORD")
	if passwordFile != "" {
		b, err := os.ReadFile(passwordFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "rounds-escalation:", err)
			return 2
		}
		o.Password = strings.TrimSpace(string(b))
	}
	o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := escalation.Run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "rounds-escalation:", err)
		return 1
	}
	return 0
}
