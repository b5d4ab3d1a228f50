//go:build unix

package cli

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestChangedSecretFileTakesEffect: the bot's state folder keeps the SCRAM
// keys of its last sign-in, but the password handed to a run is the one that
// counts. A run with a wrong secret file is refused (exit 3) even though the
// keys from an earlier good run would still sign in (issue 19, gap 8).
func TestChangedSecretFileTakesEffect(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "lab.bot", "dr.osei")
	state := t.TempDir()
	args := append([]string{"send"}, botArgs(t, srv, "lab.bot", state)...)
	args = append(args, "--to", srv.JID("dr.osei"))
	if code, _, _ := runCLI(t, "first", args...); code != ExitOK {
		t.Fatalf("first run: exit %d", code)
	}
	for i, a := range args {
		if a == "--secret-file" {
			args[i+1] = secretFile(t, "not the bot's password", 0o600)
		}
	}
	code, _, errOut := runCLI(t, "second", args...)
	if code != ExitCredentials || !strings.Contains(errOut, "refused the credentials") {
		t.Fatalf("wrong secret file with keys in the state folder: exit %d, %s; want 3", code, errOut)
	}
	// And the state folder holds nothing that signs in: no SCRAM keys, no
	// password.
	dir, err := stateDir(state, srv.JID("lab.bot"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, _, err := app.OpenHeadlessStore(ctx, dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.Account()
	if err != nil && !errors.Is(err, securestore.ErrNotFound) {
		t.Fatal(err)
	}
	if c := a.Credentials; len(c.ClientKey) != 0 || len(c.ServerKey) != 0 || c.PlainPassword != "" {
		t.Fatalf("the state folder keeps credentials: mechanism %q, client key %d bytes", c.Mechanism, len(c.ClientKey))
	}
}
