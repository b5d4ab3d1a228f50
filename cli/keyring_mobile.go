//go:build android || ios

package cli

// Phones have no keyring a command line could use (and no command line).
func keyringGet(string) (string, error) { return "", errNoKeyring }
func keyringSet(string, string) error   { return errNoKeyring }
