//go:build packaging

package packaging

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// root is the repository root (this package's parent directory).
func root(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository")
	}
	return filepath.Dir(filepath.Dir(file))
}

// dist is where the package targets write: ROUNDS_DIST or <root>/dist.
func dist(t *testing.T) string {
	if d := os.Getenv("ROUNDS_DIST"); d != "" {
		return d
	}
	return filepath.Join(root(t), "dist")
}

// appMeta is what FyneApp.toml says about the app.
type appMeta struct {
	ID, Name, Version, Build string
}

// readAppMeta reads the [Details] keys from FyneApp.toml. A line parser is
// enough for the flat keys the file has, and keeps TOML out of go.mod.
func readAppMeta(t *testing.T) appMeta {
	t.Helper()
	f, err := os.Open(filepath.Join(root(t), "FyneApp.toml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var m appMeta
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != "Details" {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.TrimSpace(k) {
		case "ID":
			m.ID = v
		case "Name":
			m.Name = v
		case "Version":
			m.Version = v
		case "Build":
			m.Build = v
		}
	}
	if m.ID == "" || m.Name == "" || m.Version == "" || m.Build == "" {
		t.Fatalf("FyneApp.toml lacks ID, Name, Version or Build: %+v", m)
	}
	return m
}

// mustExist fails with the command that makes the file.
func mustExist(t *testing.T, path, target string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v: run `make %s` first (make test does)", err, target)
	}
}
