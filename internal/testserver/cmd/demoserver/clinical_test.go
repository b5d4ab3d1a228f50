//go:build unix

package main

import (
	"os"
	"strings"
	"testing"
	"time"
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
