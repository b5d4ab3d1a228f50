//go:build linux

package testserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestStaleClusterNamespacesSwept: the namespaces of a test binary that died
// before its cleanup (timeout panic, SIGKILL) are removed by the next
// cluster start, with their /etc/netns files; those of a live binary stay.
func TestStaleClusterNamespacesSwept(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal(ErrNoNetns)
		}
		t.Skip(ErrNoNetns)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatal(ErrNoNetns)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("rounds-p%d-%s-c", dead.Process.Pid, randomHex(3))
	live := fmt.Sprintf("rounds-p%d-%s-1", os.Getpid(), randomHex(3))
	for _, ns := range []string{stale, live} {
		ns := ns
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add: %v: %s", err, out)
		}
		t.Cleanup(func() {
			_ = exec.Command("ip", "netns", "del", ns).Run()
			_ = os.RemoveAll(filepath.Join("/etc/netns", ns))
		})
		if err := os.MkdirAll(filepath.Join("/etc/netns", ns), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sweepStaleNetns()
	if _, err := os.Stat("/run/netns/" + stale); err == nil {
		t.Errorf("a crashed run's namespace %s is still there", stale)
	}
	if _, err := os.Stat("/etc/netns/" + stale); err == nil {
		t.Errorf("a crashed run's /etc/netns/%s is still there", stale)
	}
	if _, err := os.Stat("/run/netns/" + live); err != nil {
		t.Errorf("a running binary's namespace %s was removed: %v", live, err)
	}
}
