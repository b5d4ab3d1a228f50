package escalation

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestStoreKeyAndAuditExport: the state directory's store is created with
// a key of its own on first open and opens again with it; the audit export
// is the verified log as JSON lines, and it refuses (without writing) while
// the store is held by a running service.
func TestStoreKeyAndAuditExport(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Audit("escalation-plan", "sender=a@h origin=x"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := ExportAudit(dir, &out); err == nil || out.Len() != 0 {
		t.Fatalf("export while the store is held: %v, %q", err, out.String())
	}
	st.Close()
	if st, err = OpenStore(dir); err != nil {
		t.Fatalf("reopening with the key file: %v", err)
	}
	st.Close()
	if err := ExportAudit(dir, &out); err != nil {
		t.Fatal(err)
	}
	var last struct{ Kind, Detail string }
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Kind != "escalation-plan" || last.Detail != "sender=a@h origin=x" {
		t.Fatalf("export %q: %+v %v", out.String(), last, err)
	}
}
