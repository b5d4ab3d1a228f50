// Command rounds-cli is Rounds' command line without the desktop app: it
// pages people and roles from hospital systems (lab critical values,
// monitoring) and publishes the organisation's policy and on-call schedule.
// It has no GUI dependency, so it builds and runs on a headless server.
// `rounds send|admin|audit|secret ...` in the desktop binary runs the same
// code. See docs/CLI.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"rounds/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
