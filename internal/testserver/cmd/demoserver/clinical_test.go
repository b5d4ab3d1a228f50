//go:build unix

package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"rounds/app"
	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestMoveRota: the example rota moved to start this hour has dr.osei on
// "Cardiology on call" and charge.nurse on "Charge nurse ICU" from then, every
// shift moved by the same amount.
func TestMoveRota(t *testing.T) {
	data, err := os.ReadFile("../../../../docs/examples/oncall.csv")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2030, 1, 2, 15, 0, 0, 0, time.UTC)
	out, err := moveRota(data, start)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"role,jid,from,until,backup,orders",
		"Cardiology on call,dr.osei@rounds.test,2030-01-02T15:00:00Z,2030-01-03T03:00:00Z,charge.nurse@rounds.test,true",
		"Charge nurse ICU,charge.nurse@rounds.test,2030-01-02T15:00:00Z,2030-01-03T03:00:00Z,nurse.kim@rounds.test,false",
		"Cardiology on call,dr.osei@rounds.test,2030-01-03T03:00:00Z,2030-01-03T15:00:00Z,,true",
		"Charge nurse ICU,nurse.kim@rounds.test,2030-01-03T03:00:00Z,2030-01-03T15:00:00Z,charge.nurse@rounds.test,false",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("moved rota:\n%s", out)
	}
	if _, err := moveRota([]byte("role,jid\nx,y\n"), start); err == nil {
		t.Fatal("a CSV without from/until was moved")
	}
}

// TestSeedReachesTheApp: the demo's clinical seeding, run as the demo server
// does it, reaches a Rounds app signed in as a member of staff: the example
// policy is in force and the directory shows dr.osei holding "Cardiology on
// call" and charge.nurse "Charge nurse ICU" now. A second start republishes
// the rota but not the policy.
func TestSeedReachesTheApp(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{Domain: "rounds.test"})
	if err := srv.CreateAccounts(demoPassword, append(demoStaff, demoTools...)...); err != nil {
		t.Fatal(err)
	}
	if err := writeSecrets(srv, demoPassword); err != nil {
		t.Fatal(err)
	}
	examples := "../../../../docs/examples"
	if err := seedClinical(srv, examples); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := app.SignIn(ctx, app.Config{DataDir: t.TempDir(), KDF: securestore.KDFParams{Time: 1, Memory: 64, Threads: 1}},
		"nurse.kim@rounds.test", demoPassword, srv.WSURL(), []byte("246813"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.SignOut()
	go func() {
		for range c.Changes() {
		}
	}()
	holders := func() map[string]string {
		rows, _ := c.Roles()
		m := map[string]string{}
		for _, r := range rows {
			m[r.Role] = r.Holder
		}
		return m
	}
	for {
		h := holders()
		if c.OrgPolicyVersion() == 1 && h["Cardiology on call"] == "dr.osei@rounds.test" && h["Charge nurse ICU"] == "charge.nurse@rounds.test" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the app did not get the demo's policy and rota: policy version %d, roles %v", c.OrgPolicyVersion(), h)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := seedClinical(srv, examples); err != nil {
		t.Fatalf("second start: %v", err)
	}
}
