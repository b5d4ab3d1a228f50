package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"rounds/cli"
)

// runCommandLine runs `rounds send|admin|audit|secret ...` (package cli, the
// same code as cmd/rounds-cli) and exits, before any window or Fyne app is
// created; with any other arguments it returns and the app starts.
func runCommandLine() {
	if len(os.Args) < 2 || !cli.IsCommand(os.Args[1]) {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
