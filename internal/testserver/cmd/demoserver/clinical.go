//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rounds/cli"
	"rounds/internal/testserver"
)

// demoTools are the accounts of the demo's command-line tools: IT's admin
// (publishes the policy and the on-call schedule, may wipe devices), the
// lab system's bot (pages people and roles with `rounds send`) and the
// escalation service the example policy names (run by the demo server).
var demoTools = []string{"it.admin", "lab.bot", "escalation"}

// writeSecrets puts each tool account's password in <dir>/<user>.secret
// (mode 600), as a hospital would for a service account, so the examples in
// README.md and docs/CLI.md run against the demo as written.
func writeSecrets(s *testserver.Server, password string) error {
	for _, u := range demoTools {
		p := filepath.Join(s.Dir, u+".secret")
		if err := os.WriteFile(p, []byte(password+"\n"), 0o600); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// seedClinical publishes the example policy (once; a marker taken with O_EXCL,
// like the conversations' seeding) and the example on-call rota moved to
// start this hour (on every start, since it is relative to now; publishing
// replaces the previous schedule). Both go through `rounds admin`, the same
// code IT runs, with the files in docs/examples.
func seedClinical(s *testserver.Server, examples string) error {
	admin := []string{"--account", s.JID("it.admin"), "--secret-file", filepath.Join(s.Dir, "it.admin.secret"),
		"--server", s.WSURL(), "--state-dir", filepath.Join(s.Dir, "cli-state")}
	marker := filepath.Join(s.Dir, "seeded-policy")
	f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	switch {
	case err == nil:
		f.Close()
		if err := runAdmin(append(append([]string{"admin", "publish-policy"}, admin...), filepath.Join(examples, "policy.xml"))); err != nil {
			_ = os.Remove(marker)
			return err
		}
	case !errors.Is(err, os.ErrExist):
		return err
	}
	rota, err := os.ReadFile(filepath.Join(examples, "oncall.csv"))
	if err != nil {
		return err
	}
	moved, err := moveRota(rota, time.Now().Truncate(time.Hour))
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(examples, "oncall.csv"), err)
	}
	now := filepath.Join(s.Dir, "oncall-now.csv")
	if err := os.WriteFile(now, moved, 0o600); err != nil {
		return err
	}
	return runAdmin(append(append([]string{"admin", "publish-oncall"}, admin...), now))
}

func runAdmin(args []string) error {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if code := cli.Main(ctx, args, strings.NewReader(""), &out, &out); code != cli.ExitOK {
		return fmt.Errorf("rounds %s %s: exit %d: %s", args[0], args[1], code, strings.TrimSpace(out.String()))
	}
	return nil
}

// moveRota shifts every from/until in an on-call CSV by the same amount, so
// that the earliest shift starts at start: a day's example rota becomes
// today's, with dr.osei holding "Cardiology on call" and charge.nurse
// "Charge nurse ICU" from now.
func moveRota(data []byte, start time.Time) ([]byte, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return nil, fmt.Errorf("not an on-call CSV: %v", err)
	}
	cols := map[string]int{}
	for i, h := range rows[0] {
		cols[strings.TrimSpace(h)] = i
	}
	fi, ok1 := cols["from"]
	ui, ok2 := cols["until"]
	if !ok1 || !ok2 {
		return nil, errors.New("no from/until columns")
	}
	var first time.Time
	for _, row := range rows[1:] {
		t, err := time.Parse(time.RFC3339, row[fi])
		if err != nil {
			return nil, err
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	shift := start.Sub(first)
	for _, row := range rows[1:] {
		for _, c := range []int{fi, ui} {
			t, err := time.Parse(time.RFC3339, row[c])
			if err != nil {
				return nil, err
			}
			row[c] = t.Add(shift).UTC().Format(time.RFC3339)
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
