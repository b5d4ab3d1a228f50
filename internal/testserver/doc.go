// Package testserver starts a real Prosody (Start) or ejabberd (StartEjabberd) on
// loopback for tests, benchmarks and `make demo`.
//
// Every test that needs a server gets a real one: a generated configuration in a
// temporary directory, free loopback ports (ws, wss with a self-signed certificate
// made here, c2s with STARTTLS for scripted foreign peers, HTTP upload), accounts
// created with prosodyctl, and cleanup on Stop, on test cleanup, and (through
// Pdeathsig and a sweep of stale directories) when the test binary dies.
//
// A missing server binary is an error, never a skip: `make test` installs it, and a
// run that cannot start the server must not pass.
package testserver
