package cli

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// runCLI runs one command as the binary would and returns its exit code and
// output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = Main(ctx, args, bytes.NewBufferString(stdin), &out, &errb)
	t.Logf("rounds %v → %d\nstdout: %s\nstderr: %s", args, code, out.String(), errb.String())
	return code, out.String(), errb.String()
}
