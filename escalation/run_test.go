package escalation

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
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
	if err := ExportAudit(dir, "", &out); err == nil || out.Len() != 0 {
		t.Fatalf("export while the store is held: %v, %q", err, out.String())
	}
	st.Close()
	if st, err = OpenStore(dir); err != nil {
		t.Fatalf("reopening with the key file: %v", err)
	}
	st.Close()
	if err := ExportAudit(dir, "", &out); err != nil {
		t.Fatal(err)
	}
	var last struct{ Kind, Detail string }
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.Kind != "escalation-plan" || last.Detail != "sender=a@h origin=x" {
		t.Fatalf("export %q: %+v %v", out.String(), last, err)
	}
}

// TestStoreKeyApart: with a key file outside the state directory the
// directory holds no key, so a copy of it (a backup) does not open the
// pages' text; the store reopens with the key file, and a start without it
// fails with a clear error instead of writing a new, wrong key.
func TestStoreKeyApart(t *testing.T) {
	dir, keyFile := t.TempDir(), filepath.Join(t.TempDir(), "escalation.key")
	st, err := OpenStoreKeyed(dir, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatalf("no key file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "escalation.key")); err == nil {
		t.Fatal("the key was written into the state directory too")
	}
	if st, err = OpenStoreKeyed(dir, keyFile); err != nil {
		t.Fatalf("reopening with the key file: %v", err)
	}
	st.Close()
	if _, err := OpenStore(dir); err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("opened without its key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "escalation.key")); err == nil {
		t.Fatal("a start without the key wrote a new key into the state directory")
	}
	var out bytes.Buffer
	if err := ExportAudit(dir, keyFile, &out); err != nil {
		t.Fatalf("export with the key file: %v", err)
	}
}
