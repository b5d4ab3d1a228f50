package app

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rounds/securestore"
)

// exportAudit exports c's audit log in format, failing the test on error.
func exportAudit(t *testing.T, c *Client, format string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.ExportAudit(&buf, format); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// rollbackExports makes three exports of one device: older; newer, after
// more work; and rolledBack, made after the store file was restored to a
// copy taken before older and then used again (every one genuinely signed).
func rollbackExports(t *testing.T, format string) (older, newer, rolledBack string) {
	c := offlineClient(t)
	st := c.store
	st.Close()
	snapshot, err := os.ReadFile(c.path)
	if err != nil {
		t.Fatal(err)
	}
	reopen := func() {
		st, err := securestore.Open(c.path, testPIN, c.cfg.storeOptions())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		c.store = st
	}
	reopen()
	older = exportAudit(t, c, format)
	c.audit(securestore.AuditRecall, "message recalled")
	newer = exportAudit(t, c, format)
	c.store.Close()
	if err := os.WriteFile(c.path, snapshot, 0o600); err != nil {
		t.Fatal(err)
	}
	reopen()
	c.audit(securestore.AuditSignIn, "")
	c.audit(securestore.AuditSignIn, "")
	rolledBack = exportAudit(t, c, format)
	return older, newer, rolledBack
}

// relabel puts old's entries and head under new's signature block: a
// rolled-back log presented as the newer export.
func relabel(t *testing.T, format, old, new string) string {
	if format == "json" {
		var o, n auditFile
		if json.Unmarshal([]byte(old), &o) != nil || json.Unmarshal([]byte(new), &n) != nil {
			t.Fatal("bad export JSON")
		}
		n.Entries, n.Head = o.Entries, o.Head
		b, _ := json.MarshalIndent(n, "", "  ")
		return string(b)
	}
	ol := strings.Split(strings.TrimRight(old, "\n"), "\n")
	nl := strings.Split(strings.TrimRight(new, "\n"), "\n")
	return strings.Join(append(ol[:len(ol)-1:len(ol)-1], nl[len(nl)-1]), "\n") + "\n"
}

// writeAuditRollbackFixtures writes fail_audit_rollback.* and the series in
// testdata/audit_series (called by TestWriteAuditFixtures).
func writeAuditRollbackFixtures(t *testing.T, _ *Client, write func(name, s string)) {
	os.MkdirAll(filepath.Join("testdata", "audit_series"), 0o755)
	for _, format := range []string{"json", "csv"} {
		older, newer, rolledBack := rollbackExports(t, format)
		write("fail_audit_rollback."+format, relabel(t, format, older, newer))
		write(filepath.Join("audit_series", "older."+format), older)
		write(filepath.Join("audit_series", "newer."+format), newer)
		write(filepath.Join("audit_series", "newer_rolledback."+format), rolledBack)
	}
}

// TestAuditExportRollbackAndRewrite: a truncated log with its head rewritten,
// an older log under a newer export's signature, and a log re-signed with
// another key are caught (the last one by the fingerprint); a newer export
// of a device whose file was rolled back to an older copy, although
// genuinely signed, does not extend an earlier export the reviewer kept.
func TestAuditExportRollbackAndRewrite(t *testing.T) {
	for _, format := range []string{"json", "csv"} {
		older, newer, rolledBack := rollbackExports(t, format)
		for name, s := range map[string]string{"older": older, "newer": newer, "rolled back": rolledBack} {
			if err := VerifyAuditExport(strings.NewReader(s)); err != nil {
				t.Fatalf("%s %s export does not verify on its own: %v", format, name, err)
			}
		}
		if err := VerifyAuditExport(strings.NewReader(relabel(t, format, older, newer))); !errors.Is(err, ErrAuditTampered) {
			t.Fatalf("%s: older log under the newer signature: %v", format, err)
		}
		if err := VerifyAuditExportExtends(strings.NewReader(older), strings.NewReader(newer)); err != nil {
			t.Fatalf("%s: genuine newer export does not extend the older: %v", format, err)
		}
		err := VerifyAuditExportExtends(strings.NewReader(older), strings.NewReader(rolledBack))
		if !errors.Is(err, ErrAuditTampered) {
			t.Fatalf("%s: export after a rollback of the file: %v", format, err)
		}
		if err := VerifyAuditExportExtends(strings.NewReader(newer), strings.NewReader(older)); !errors.Is(err, ErrAuditTampered) {
			t.Fatalf("%s: older export presented as the newer: %v", format, err)
		}
	}

	// A forger without the device key rewrites an entry, recomputes the
	// chain and signs with his own key: the file is consistent, the
	// fingerprint is not the device's.
	c := offlineClient(t)
	var f auditFile
	if err := json.Unmarshal([]byte(exportAudit(t, c, "json")), &f); err != nil {
		t.Fatal(err)
	}
	device, err := c.AuditKeyFingerprint()
	if err != nil {
		t.Fatal(err)
	}
	info, err := VerifyAuditExportInfo(bytes.NewReader(mustMarshal(t, f)))
	if err != nil || info.KeyFingerprint != device || info.Account != "nurse.ana@hospital.test" {
		t.Fatalf("genuine export: %+v %v (device key %s)", info, err, device)
	}
	f.Entries[2].Detail = "policy changed: version 2"
	var prev [32]byte
	for i := range f.Entries {
		e := &f.Entries[i]
		h := auditHash(prev, e.Seq, e.Time, e.Kind, e.Detail)
		e.Prev, e.Hash = hex.EncodeToString(prev[:]), hex.EncodeToString(h[:])
		prev = h
	}
	f.Head.Hash = f.Entries[len(f.Entries)-1].Hash
	if err := VerifyAuditExport(bytes.NewReader(mustMarshal(t, f))); !errors.Is(err, ErrAuditTampered) {
		t.Fatalf("rewritten chain under the device signature: %v", err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	f.Key = hex.EncodeToString(pub)
	f.Signature = hex.EncodeToString(ed25519.Sign(priv, append([]byte("rounds/audit-export/v2\x00"), f.signedSummary()...)))
	info, err = VerifyAuditExportInfo(bytes.NewReader(mustMarshal(t, f)))
	if err != nil {
		t.Fatalf("re-signed forgery should be self-consistent: %v", err)
	}
	if info.KeyFingerprint == device {
		t.Fatal("forger's key has the device's fingerprint")
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAuditSeriesFixtures: testdata/audit_series holds exports of one
// device: newer extends older; newer_rolledback (made after the device's
// file was restored to an older copy) does not.
func TestAuditSeriesFixtures(t *testing.T) {
	for _, format := range []string{"json", "csv"} {
		read := func(name string) *bytes.Reader {
			b, err := os.ReadFile(filepath.Join("testdata", "audit_series", name+"."+format))
			if err != nil {
				t.Fatal(err)
			}
			return bytes.NewReader(b)
		}
		if err := VerifyAuditExportExtends(read("older"), read("newer")); err != nil {
			t.Errorf("%s: newer does not extend older: %v", format, err)
		}
		if err := VerifyAuditExportExtends(read("older"), read("newer_rolledback")); !errors.Is(err, ErrAuditTampered) {
			t.Errorf("%s: rolled-back export: %v", format, err)
		}
	}
}
