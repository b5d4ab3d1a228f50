package cli

import (
	"strings"
	"testing"
)

// TestCheckRefusesAnotherDomain: `admin check --domain` naming a domain
// other than the check account's (a typo such as hospital.exmaple, or a
// look-alike someone registered) is refused before anything is looked up:
// the check would discover that domain's server and sign in there with the
// hospital account's password, which a server offering only PLAIN receives
// as it is.
func TestCheckRefusesAnotherDomain(t *testing.T) {
	secret := secretFile(t, "correct horse battery staple", 0o600)
	code, out, errOut := runCLI(t, "", "admin", "check", "--account", "rounds.check@hospital.example",
		"--secret-file", secret, "--domain", "hospital.exmaple", "--connect-timeout", "2s")
	if code != ExitUsage || out != "" || !strings.Contains(errOut, "not an account of hospital.exmaple") {
		t.Fatalf("check of another domain: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
