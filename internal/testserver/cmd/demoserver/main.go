//go:build unix

// Command demoserver runs the loopback Prosody that `make demo` signs in to. It keeps
// its data in -dir so demo conversations survive restarts, registers the demo staff
// accounts and the command-line tools' accounts (it.admin, lab.bot, passwords in
// <dir>/<user>.secret), runs the escalation service, publishes the example policy and an on-call rota starting
// this hour, writes the connection details to <dir>/demo.env, and runs until
// interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"rounds/escalation"
	"rounds/internal/testserver"
)

// demoStaff are the accounts a demo needs to show a ward: a nurse, a physician, a
// charge nurse and the front desk.
var demoStaff = []string{"nurse.kim", "dr.osei", "charge.nurse", "frontdesk"}

const demoPassword = "rounds-demo"

func main() {
	dir := flag.String("dir", ".demo/prosody", "directory for the server's config, data and log")
	httpPort := flag.Int("http-port", 15280, "loopback port for ws:// and HTTP upload")
	httpsPort := flag.Int("https-port", 15281, "loopback port for wss://")
	c2sPort := flag.Int("c2s-port", 15222, "loopback port for XMPP over TCP")
	examples := flag.String("examples", "docs/examples", "directory with policy.xml and oncall.csv to publish")
	flag.Parse()

	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fail(err)
	}
	// Prosody keeps running when a port is taken, and the readiness probe would
	// then talk to whoever holds it: refuse to start next to another server.
	for _, port := range []int{*httpPort, *httpsPort, *c2sPort} {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			fail(fmt.Errorf("port %d is in use (is a demo server already running?): %w", port, err))
		}
		l.Close()
	}
	s, err := testserver.Start(testserver.Options{
		Domain: "rounds.test", Dir: *dir, SCRAMSHA256: true,
		HTTPPort: *httpPort, HTTPSPort: *httpsPort, C2SPort: *c2sPort,
	})
	if err != nil {
		fail(err)
	}
	// Registering an existing account only resets its password, so this is safe
	// on every start.
	if err := s.CreateAccounts(demoPassword, append(demoStaff, demoTools...)...); err != nil {
		s.Halt()
		fail(err)
	}
	if err := writeSecrets(s, demoPassword); err != nil {
		s.Halt()
		fail(err)
	}
	if err := seed(s, demoPassword); err != nil {
		s.Halt()
		fail(err)
	}
	if err := seedClinical(s, *examples); err != nil {
		s.Halt()
		fail(err)
	}
	env := fmt.Sprintf("ROUNDS_SERVER_URL=%s\nROUNDS_DEMO_DOMAIN=%s\nROUNDS_DEMO_PASSWORD=%s\nROUNDS_DEMO_ACCOUNTS=%s\n",
		s.WSURL(), s.Domain, demoPassword, joinJIDs(s))
	if err := os.WriteFile(filepath.Join(s.Dir, "demo.env"), []byte(env), 0o600); err != nil {
		s.Halt()
		fail(err)
	}
	// The escalation service the example policy names, so a page handed to
	// it (`rounds send --escalate`) escalates with no sender online.
	ctx, stopService := context.WithCancel(context.Background())
	serviceDone := make(chan struct{})
	go func() {
		defer close(serviceDone)
		err := escalation.Run(ctx, escalation.Options{Dir: filepath.Join(s.Dir, "escalation"), URL: s.WSURL(),
			Account: s.JID("escalation"), Password: demoPassword, Resource: "demo"})
		if err != nil {
			slog.Error("demo escalation service stopped", "err", err)
		}
	}()
	slog.Info("demo server ready", "ws", s.WSURL(), "wss", s.WSSURL(), "dir", s.Dir)
	fmt.Print(env)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	stopService()
	<-serviceDone
	s.Halt()
	_ = os.Remove(filepath.Join(s.Dir, "demo.env"))
}

func joinJIDs(s *testserver.Server) string {
	out := ""
	for i, u := range demoStaff {
		if i > 0 {
			out += ","
		}
		out += s.JID(u)
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "demoserver:", err)
	os.Exit(1)
}
