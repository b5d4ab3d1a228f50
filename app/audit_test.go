package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/securestore"
)

// offlineClient is a Client over a fresh store with no Session: enough for
// the audit and export paths, which read only the store.
func offlineClient(t testing.TB) *Client {
	t.Helper()
	cfg := testConfig(t)
	cfg.Clock = newFakeClock()
	cfg = cfg.withDefaults()
	path := filepath.Join(cfg.DataDir, "a.db")
	st, err := securestore.Create(path, testPIN, cfg.storeOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := newClient(cfg, path)
	t.Cleanup(c.changes.close)
	done := make(chan struct{})
	close(done)
	c.store, c.account, c.stop, c.done = st, "nurse.ana@hospital.test", func() {}, done
	c.lastTouch = cfg.Clock.Now()
	for _, e := range [][2]string{
		{securestore.AuditSignIn, ""},
		{auditPolicyChanged, "policy changed: version 3"},
		{AuditWipeIgnored, "wipe directive ignored from mallory@hospital.test: not a policy admin (id w1)"},
		{securestore.AuditRecall, "message recalled"},
	} {
		if err := st.Audit(e[0], e[1]); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// TestAuditHashMatchesStore: the verifier's hash is securestore's, entry by
// entry, so a genuine export verifies.
func TestAuditHashMatchesStore(t *testing.T) {
	c := offlineClient(t)
	es, err := c.store.AuditLog()
	if err != nil || len(es) < 5 {
		t.Fatalf("audit log: %d entries, %v", len(es), err)
	}
	for _, e := range es {
		if auditHash(e.Prev, e.Seq, e.Time, e.Kind, e.Detail) != e.Hash {
			t.Fatalf("entry %d: app's hash differs from securestore's", e.Seq)
		}
	}
}

// TestAuditExportVerify: JSON and CSV exports verify; changing an entry's
// detail, kind or time, removing an entry (middle or last), reordering or
// truncating is detected; the export itself is audited.
func TestAuditExportVerify(t *testing.T) {
	c := offlineClient(t)
	for _, format := range []string{"json", "csv"} {
		var buf bytes.Buffer
		if err := c.ExportAudit(&buf, format); err != nil {
			t.Fatal(err)
		}
		if err := VerifyAuditExport(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("%s export does not verify: %v\n%s", format, err, buf.String())
		}
		text := buf.String()
		if !strings.Contains(text, "policy changed: version 3") || !strings.Contains(text, "audit log exported as "+format) {
			t.Fatalf("%s export lacks entries:\n%s", format, text)
		}
		for name, mutate := range tamperings(t, format) {
			bad := mutate(text)
			if bad == text {
				t.Fatalf("%s/%s: tampering changed nothing", format, name)
			}
			if err := VerifyAuditExport(strings.NewReader(bad)); !errors.Is(err, ErrAuditTampered) {
				t.Errorf("%s/%s not detected: %v", format, name, err)
			}
		}
	}
	rows, err := c.AuditEntries()
	if err != nil {
		t.Fatal(err)
	}
	if last := rows[len(rows)-1]; last.Kind != securestore.AuditExport || !strings.Contains(last.Detail, "csv") {
		t.Fatalf("export not audited: %+v", last)
	}
	if err := c.AuditIntact(); err != nil {
		t.Fatal(err)
	}
	if err := c.ExportAudit(&bytes.Buffer{}, "xml"); !errors.Is(err, ErrExportFormat) {
		t.Fatalf("xml export: %v", err)
	}
}

// tamperings returns edits of an export, each of which must fail to verify.
func tamperings(t *testing.T, format string) map[string]func(string) string {
	if format == "json" {
		edit := func(f func(*auditFile)) func(string) string {
			return func(s string) string {
				var a auditFile
				if err := json.Unmarshal([]byte(s), &a); err != nil {
					t.Fatal(err)
				}
				f(&a)
				b, _ := json.MarshalIndent(a, "", "  ")
				return string(b)
			}
		}
		return map[string]func(string) string{
			"changed detail": edit(func(a *auditFile) { a.Entries[2].Detail = "policy changed: version 2" }),
			"changed kind":   edit(func(a *auditFile) { a.Entries[3].Kind = "sign-in" }),
			"changed time":   edit(func(a *auditFile) { a.Entries[1].Time = a.Entries[1].Time.Add(1) }),
			"removed middle": edit(func(a *auditFile) { a.Entries = append(a.Entries[:2], a.Entries[3:]...) }),
			"removed last":   edit(func(a *auditFile) { a.Entries = a.Entries[:len(a.Entries)-1] }),
			"reordered": edit(func(a *auditFile) {
				a.Entries[1], a.Entries[2] = a.Entries[2], a.Entries[1]
			}),
			"renumbered after removal": edit(func(a *auditFile) {
				a.Entries = append(a.Entries[:2], a.Entries[3:]...)
				for i := range a.Entries {
					a.Entries[i].Seq = uint64(i + 1)
				}
				a.Head.Count--
			}),
			// Truncation with the head rewritten to match: a consistent
			// chain, which only the signature catches.
			"reheaded": edit(func(a *auditFile) {
				a.Entries = a.Entries[:len(a.Entries)-2]
				a.Head = auditHead{Count: uint64(len(a.Entries)), Hash: a.Entries[len(a.Entries)-1].Hash}
			}),
			"changed account":  edit(func(a *auditFile) { a.Account = "nurse.bea@hospital.test" }),
			"changed exported": edit(func(a *auditFile) { a.Exported = a.Exported.Add(-time.Hour) }),
			"no signature":     edit(func(a *auditFile) { a.Signature = "" }),
		}
	}
	lines := func(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
	join := func(l []string) string { return strings.Join(l, "\n") + "\n" }
	// Lines: header, entries..., head, signed.
	return map[string]func(string) string{
		"changed detail": func(s string) string { return strings.Replace(s, "version 3", "version 2", 1) },
		"removed middle": func(s string) string { l := lines(s); return join(append(l[:3:3], l[4:]...)) },
		"removed last":   func(s string) string { l := lines(s); return join(append(l[:len(l)-3:len(l)-3], l[len(l)-2:]...)) },
		"no head row":    func(s string) string { l := lines(s); return join(append(l[:len(l)-2:len(l)-2], l[len(l)-1])) },
		"no signature":   func(s string) string { l := lines(s); return join(l[:len(l)-1]) },
		"reheaded": func(s string) string {
			l := lines(s)
			n := len(l) - 2 // index of the head row
			last := strings.Split(l[n-3], ",")
			head := fmt.Sprintf("head,%s,,,,%s", last[0], last[len(last)-1])
			return join(append(append(l[:n-2:n-2], head), l[n+1]))
		},
	}
}

// TestAuditFixtures: testdata/good_audit* verify, testdata/fail_audit* do
// not, each with the error it should have.
func TestAuditFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*_audit*"))
	if len(files) < 6 {
		t.Fatalf("audit fixtures missing: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		err = VerifyAuditExport(bytes.NewReader(b))
		name := filepath.Base(f)
		switch {
		case strings.HasPrefix(name, "good_"):
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case strings.HasPrefix(name, "fail_audit_notexport"):
			if err == nil || errors.Is(err, ErrAuditTampered) {
				t.Errorf("%s: want a not-an-export error, got %v", name, err)
			}
		default:
			if !errors.Is(err, ErrAuditTampered) {
				t.Errorf("%s: want ErrAuditTampered, got %v", name, err)
			}
		}
	}
}

// TestWriteAuditFixtures regenerates testdata/*_audit* from a fresh store:
// ROUNDS_WRITE_FIXTURES=1 go test ./app -run TestWriteAuditFixtures.
func TestWriteAuditFixtures(t *testing.T) {
	if os.Getenv("ROUNDS_WRITE_FIXTURES") == "" {
		t.Skip("set ROUNDS_WRITE_FIXTURES=1 to regenerate the audit fixtures")
	}
	c := offlineClient(t)
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join("testdata", name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.MkdirAll("testdata", 0o755)
	for _, format := range []string{"json", "csv"} {
		var buf bytes.Buffer
		if err := c.ExportAudit(&buf, format); err != nil {
			t.Fatal(err)
		}
		write("good_audit."+format, buf.String())
		m := tamperings(t, format)
		write("fail_audit_changed."+format, m["changed detail"](buf.String()))
		write("fail_audit_removed."+format, m["removed middle"](buf.String()))
		write("fail_audit_truncated."+format, m["removed last"](buf.String()))
		write("fail_audit_reheaded."+format, m["reheaded"](buf.String()))
	}
	write("fail_audit_notexport.json", `{"format":"something-else/1","entries":[]}`)
	write("fail_audit_notexport.csv", "name,dose\nheparin,5000\n")
	writeAuditRollbackFixtures(t, c, write)
}

// FuzzVerifyAuditExport: hostile files never panic or hang the verifier.
func FuzzVerifyAuditExport(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*_audit*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("{"))
	f.Add([]byte("seq,time,kind,detail,prev,hash\nhead,0,,,,\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = VerifyAuditExport(bytes.NewReader(b))
	})
}
