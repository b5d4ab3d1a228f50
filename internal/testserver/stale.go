//go:build unix

package testserver

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const (
	staleDirPrefix = "rounds-prosody-"
	ownerFile      = "owner.pid"
)

// sweepStale removes server directories left by test binaries that died before
// their cleanup ran (SIGKILL, timeout panic). Pdeathsig already killed their
// prosody; this reclaims the disk and, if a server somehow survived, stops it.
func sweepStale() {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), staleDirPrefix) {
			continue
		}
		dir := filepath.Join(os.TempDir(), e.Name())
		owner, err := readPid(filepath.Join(dir, ownerFile))
		if err != nil || alive(owner) {
			continue
		}
		if pid, err := readPid(filepath.Join(dir, "prosody.pid")); err == nil && alive(pid) && isProsody(pid, dir) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = os.RemoveAll(dir)
	}
}

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// isProsody guards against a recycled pid: only a process whose command line names
// this directory's config is ours to kill.
func isProsody(pid int, dir string) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err == nil && strings.Contains(string(b), dir)
}
