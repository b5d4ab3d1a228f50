package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// auditFixtures holds the audit exports app's tests write and check
// (TestWriteAuditFixtures): cli verifies the very same files.
var auditFixtures = filepath.Join("..", "app", "testdata")

// TestAuditVerify: an intact export (JSON or CSV) exits 0; a changed,
// removed or cut-off entry, a rewritten head or a rolled-back log exits 1
// naming what is wrong; a file that is not an audit export exits 2. The
// fixtures are exports written by app.ExportAudit and tampered with.
func TestAuditVerify(t *testing.T) {
	cases := []struct {
		file string
		code int
		want string
	}{
		{"good_audit.json", ExitOK, "verifies"},
		{"good_audit.csv", ExitOK, "verifies"},
		{"fail_audit_changed.json", ExitFailure, "was changed"},
		{"fail_audit_changed.csv", ExitFailure, "was changed"},
		{"fail_audit_removed.json", ExitFailure, "entry"},
		{"fail_audit_removed.csv", ExitFailure, "entry"},
		{"fail_audit_truncated.json", ExitFailure, "head"},
		{"fail_audit_truncated.csv", ExitFailure, "head"},
		{"fail_audit_reheaded.json", ExitFailure, "signature does not match"},
		{"fail_audit_reheaded.csv", ExitFailure, "signature does not match"},
		{"fail_audit_rollback.json", ExitFailure, "signature does not match"},
		{"fail_audit_rollback.csv", ExitFailure, "signature does not match"},
		{"fail_audit_notexport.json", ExitUsage, "not an audit export"},
		{"fail_audit_notexport.csv", ExitUsage, "not an audit export"},
	}
	files, _ := filepath.Glob(filepath.Join(auditFixtures, "*_audit*"))
	if len(files) != len(cases) {
		t.Fatalf("%d audit fixtures on disk, %d listed", len(files), len(cases))
	}
	for _, c := range cases {
		code, out, errOut := runCLI(t, "", "audit", "verify", filepath.Join(auditFixtures, c.file))
		if code != c.code || !strings.Contains(out+errOut, c.want) || !strings.Contains(out+errOut, c.file) {
			t.Errorf("%s: exit %d (%s%s), want %d and %q", c.file, code, out, errOut, c.code, c.want)
		}
	}
	if code, _, _ := runCLI(t, "", "audit", "verify", filepath.Join(auditFixtures, "does-not-exist.json")); code != ExitUsage {
		t.Errorf("missing file: exit %d", code)
	}
}

// TestAuditVerifyKey: --key accepts the export's signing key (any spacing
// or case) and refuses another, so a forgery signed with the forger's own
// key exits 1.
func TestAuditVerifyKey(t *testing.T) {
	file := filepath.Join(auditFixtures, "good_audit.json")
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	info, err := verifyAuditExport(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	right := strings.ToUpper(strings.ReplaceAll(info.KeyFingerprint, " ", ":"))
	if code, out, errOut := runCLI(t, "", "audit", "verify", "--key", right, file); code != ExitOK {
		t.Fatalf("right key: exit %d %s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, "", "audit", "verify", "--key", "0123 4567 89ab cdef 0123 4567 89ab cdef", file); code != ExitFailure || !strings.Contains(out+errOut, "not the device's key") {
		t.Fatalf("wrong key: exit %d %s%s", code, out, errOut)
	}
}
