package cli

import (
	"path/filepath"
	"rounds/app"
	"rounds/sync/xmpp"
	"strings"
	"testing"
)

// TestPublishPolicyDryRun: the example policy decodes with the clients' own
// parser; every fail_policy_* fixture is refused (exit 2) with the reason,
// before any sign-in (no --account is given, so a sign-in would fail
// differently).
func TestPublishPolicyDryRun(t *testing.T) {
	code, out, _ := runCLI(t, "", "admin", "publish-policy", "--dry-run", "../docs/examples/policy.xml")
	if code != ExitOK || !strings.Contains(out, "<order-recipient") || !strings.Contains(out, `urn:rounds:policy:0`) {
		t.Fatalf("example policy: exit %d, %q", code, out)
	}
	want := map[string]string{
		"fail_policy_preview.xml":   "everything",
		"fail_policy_unclosed.xml":  "not well-formed XML",
		"fail_policy_namespace.xml": "want <policy xmlns='urn:rounds:policy:0'>",
		"fail_policy_admin.xml":     "not a jid",
		"fail_policy_lock.xml":      "3000000",
	}
	files, _ := filepath.Glob("testdata/fail_policy_*.xml")
	if len(files) != len(want) {
		t.Fatalf("%d fixtures, %d listed", len(files), len(want))
	}
	for _, f := range files {
		code, out, errOut := runCLI(t, "", "admin", "publish-policy", "--dry-run", f)
		w := want[filepath.Base(f)]
		if code != ExitUsage || out != "" || !strings.Contains(errOut, w) || !strings.Contains(errOut, filepath.Base(f)) {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming the file and %q", f, code, errOut, w)
		}
	}
}

// TestPublishOnCallDryRun prints the payload the devices will read.
func TestPublishOnCallDryRun(t *testing.T) {
	for _, f := range []string{"../docs/examples/oncall.csv", "../docs/examples/oncall.ics"} {
		code, out, _ := runCLI(t, "", "admin", "publish-oncall", "--dry-run", f)
		if code != ExitOK || strings.Count(out, "<shift ") != 4 || !strings.Contains(out, `role="Cardiology on call"`) {
			t.Fatalf("%s: exit %d, %q", f, code, out)
		}
	}
	if code, _, errOut := runCLI(t, "", "admin", "publish-oncall", "--dry-run", "testdata/fail_overlap.csv"); code != ExitUsage || !strings.Contains(errOut, "overlaps") {
		t.Fatalf("overlap: exit %d, %s", code, errOut)
	}
}

// FuzzPolicyFile: any file is decoded or refused, never a panic; what is
// accepted survives the trip to the devices.
func FuzzPolicyFile(f *testing.F) {
	for _, p := range fixtureSeeds(f, "*.xml") {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		el, err := app.PolicyDocument(data)
		if err != nil {
			return
		}
		if _, err := xmpp.DecodeOrgPolicy([]byte(el.String())); err != nil {
			t.Fatalf("accepted a policy the devices refuse: %v\n%s", err, el)
		}
	})
}
