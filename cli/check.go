package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"rounds/app"
)

// checkCommand is the server check (`rounds admin check`): it signs in as a
// test account and prints one line per thing Rounds needs from the server,
// with the fix under each line that is not ok. Exit 0: all ok (warnings
// allowed); 1: something fails; 3: the account was refused; 4: the server
// could not be reached or its certificate is not trusted.
func checkCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rounds admin check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var a accountFlags
	a.register(fs)
	domain := fs.String("domain", "", "the XMPP domain to check: the account's own (its password goes to no other server)")
	pubsub := fs.String("pubsub", "", "the pubsub service holding the policy and on-call nodes (default pubsub.DOMAIN)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	account, err := app.CheckPerson(a.account)
	if a.account == "" || err != nil {
		return fail(ExitUsage, "--account: want the check account, user@domain")
	}
	if *domain == "" {
		_, *domain, _ = strings.Cut(account, "@")
	}
	password, err := readSecret(account, a.secretFile, a.keyring)
	if err != nil {
		return err
	}
	tlsConf, err := tlsConfig(a.caFile)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, a.connectTimeout+time.Minute)
	defer cancel()
	findings, err := app.CheckServer(cctx, app.ServerCheck{Domain: *domain, Account: account, Password: password,
		URL: strings.TrimSpace(a.server), TLSConfig: tlsConf, PubSubService: *pubsub})
	failed := 0
	for _, f := range findings {
		fmt.Fprintf(stdout, "%-4s  %-17s  %s\n", f.Status, f.Area, f.Says)
		if f.Fix != "" {
			fmt.Fprintf(stdout, "      %-17s  fix: %s\n", "", f.Fix)
		}
		if f.Status == app.CheckFail {
			failed++
		}
	}
	switch {
	case errors.Is(err, app.ErrCheckOtherDomain):
		return fail(ExitUsage, "--domain %s: %v (the check signs in to the domain it checks; make the account there)", *domain, err)
	case errors.Is(err, app.ErrWrongPassword):
		return fail(ExitCredentials, "%s: the server refused the credentials; nothing beyond sign-in was checked", account)
	case err != nil:
		return fail(ExitUnreachable, "%v; nothing beyond it was checked", err)
	case failed > 0:
		return fail(ExitFailure, "%d of %d checks failed: %s is not ready for Rounds", failed, len(findings), *domain)
	}
	fmt.Fprintf(stdout, "%s is ready for Rounds\n", *domain)
	return nil
}
