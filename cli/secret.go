package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxSecretSize bounds a secret file: a password, not a document.
const maxSecretSize = 4096

// readSecretFile reads an account password from a file that only its owner
// can read. A password file that the whole lab server can read is a leaked
// password, so it is refused rather than used (the same rule ssh applies to
// private keys). The first line is the password; a trailing newline, as
// editors leave one, is not part of it.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fail(ExitUsage, "secret file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fail(ExitUsage, "secret file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return "", fail(ExitUsage, "secret file %s: not a regular file", path)
	}
	// Windows has no permission bits worth checking here; its ACLs are the
	// administrator's to set.
	if !isWindows() && fi.Mode().Perm()&0o077 != 0 {
		return "", fail(ExitUsage, "secret file %s is readable by others (mode %04o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretSize+1))
	if err != nil {
		return "", fail(ExitUsage, "secret file: %w", err)
	}
	if len(b) > maxSecretSize {
		return "", fail(ExitUsage, "secret file %s: larger than %d bytes; it should hold only the password", path, maxSecretSize)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fail(ExitUsage, "secret file %s: empty", path)
	}
	return line, nil
}

// keyringService is where `rounds secret set` files bot passwords in the OS
// keyring, apart from the app's own store secrets (service "rounds").
const keyringService = "rounds-cli"

// errNoKeyring: this platform has no keyring the command line can use.
var errNoKeyring = errors.New("no OS keyring on this platform")

// readSecret returns the password from the file or the keyring, whichever the
// flags name. Never from the command line: argv is visible to every user of
// the machine (ps, /proc) and lands in shell history.
func readSecret(account, file string, useKeyring bool) (string, error) {
	switch {
	case file != "" && useKeyring:
		return "", fail(ExitUsage, "give either --secret-file or --keyring, not both")
	case file != "":
		return readSecretFile(file)
	case useKeyring:
		s, err := keyringGet(account)
		if err != nil {
			return "", fail(ExitUsage, "keyring: %w (file it with: rounds secret set --account %s)", err, account)
		}
		return s, nil
	}
	return "", fail(ExitUsage, "no secret: give --secret-file FILE (mode 600) or --keyring")
}

// readSecretStdin reads a password for `rounds secret set` from stdin.
func readSecretStdin(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSecretSize+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxSecretSize {
		return "", fmt.Errorf("secret on stdin is larger than %d bytes", maxSecretSize)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", errors.New("no secret on stdin")
	}
	return line, nil
}
