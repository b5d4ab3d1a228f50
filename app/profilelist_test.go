package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The profile list is read from disk before any PIN (profiles.go): whatever
// is in it, listing the profiles must not fail or panic, must name only
// profiles whose store is on disk under a well-formed id, and must keep
// the names of a good list.

var fixtureIDs = []string{"0123456789abcdef", "fedcba9876543210"}

// listDir is a data directory with a (fake) store for each of ids and list
// as profiles.json.
func listDir(t testing.TB, list []byte, ids ...string) Config {
	dir := t.TempDir()
	for _, id := range ids {
		if err := os.MkdirAll(filepath.Join(dir, profilesDirName, id), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(ProfileStorePath(dir, id), []byte("not opened by listing"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, profileListName), list, 0o600); err != nil {
		t.Fatal(err)
	}
	return Config{DataDir: dir, Secrets: &fakeKeyring{}}
}

func checkListed(t testing.TB, cfg Config, list []Profile) {
	t.Helper()
	onDisk, _ := profileDirs(cfg.DataDir)
	seen := map[string]bool{}
	for _, p := range list {
		if !validProfileID(p.ID) || !slices.Contains(onDisk, p.ID) || seen[p.ID] {
			t.Fatalf("listed %+v (on disk %v)", p, onDisk)
		}
		seen[p.ID] = true
	}
}

func TestProfileListFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/profiles/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v %v", files, err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cfg := listDir(t, b, fixtureIDs...)
		list, err := Profiles(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkListed(t, cfg, list)
		if len(list) != len(fixtureIDs) {
			t.Fatalf("%s: %d profiles listed, want every store on disk: %+v", name, len(list), list)
		}
		for _, p := range list {
			if p.Name == "escape" || p.Name == "upper case id" || p.Name == "duplicate" || p.Name == "wiped" {
				t.Fatalf("%s: a refused entry listed: %+v", name, p)
			}
		}
		if strings.HasPrefix(name, "good_") {
			if list[0].Name != "nurse.kim" || list[1].Name != "nurse.ade" || list[1].KeepUntil.IsZero() {
				t.Fatalf("%s: %+v", name, list)
			}
		}
		// What was written back is read back the same.
		again, err := Profiles(cfg)
		if err != nil || !slices.EqualFunc(list, again, func(a, b Profile) bool { return a.ID == b.ID && a.Name == b.Name }) {
			t.Fatalf("%s: rewritten list differs: %+v / %+v %v", name, list, again, err)
		}
	}
}

func FuzzProfileList(f *testing.F) {
	files, _ := filepath.Glob("testdata/profiles/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := listDir(t, b, fixtureIDs[0])
		list, err := Profiles(cfg)
		if err != nil {
			t.Fatalf("listing: %v", err)
		}
		checkListed(t, cfg, list)
	})
}
