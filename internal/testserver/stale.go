//go:build unix

package testserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// staleNetns matches the namespaces StartEjabberdClusterT names:
// rounds-p<pid of the test binary>-<random>-<c or node number>.
var staleNetns = regexp.MustCompile(`^rounds-p([0-9]+)-[0-9a-f]+-(c|[0-9]+)$`)

// sweepStaleNetns removes the cluster namespaces (and their /etc/netns
// files) of test binaries that died before their cleanup ran (SIGKILL,
// timeout panic). Pdeathsig already killed their nodes, but a namespace
// stays while its /run/netns mount does, and every crashed run would leave
// its bridge, veths and nftables table behind. Namespaces of a binary still
// running (another test run on the machine) are left alone.
func sweepStaleNetns() {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleNetns.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if pid, err := strconv.Atoi(m[1]); err != nil || alive(pid) {
			continue
		}
		_ = exec.Command("ip", "netns", "del", e.Name()).Run()
		_ = os.RemoveAll(filepath.Join("/etc/netns", e.Name()))
	}
}
