package securestore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestPurgeOnRealFullDisk is TestPurgeCompactionFailureLeavesNothingAndIsRetried
// on a real full filesystem instead of the injected fault. It needs a small
// filesystem of its own, so it runs only when ROUNDS_FULLDISK_DIR names one
// (as root on Linux):
//
//	make test-fulldisk   (mounts a 3 MiB tmpfs; part of make test)
//
// Like the real-keyring test, the plain ./... run skips it and make test
// runs it in its own target, where the filesystem exists.
func TestPurgeOnRealFullDisk(t *testing.T) {
	dir := os.Getenv("ROUNDS_FULLDISK_DIR")
	if dir == "" {
		t.Skip("set ROUNDS_FULLDISK_DIR to a small dedicated filesystem: make test-fulldisk")
	}
	path := filepath.Join(dir, "account.db")
	ballast := filepath.Join(dir, "ballast")
	os.Remove(path)
	os.Remove(ballast)
	t.Cleanup(func() { os.Remove(path); os.Remove(ballast); os.Remove(path + compactSuffix) })
	opts := testOptions()
	s, err := Create(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const days, perDay = 4, 300
	marker := func(d, i int) string { return fmt.Sprintf("MARKER-D%d-M%03d-", d, i) }
	for d := 0; d < days; d++ {
		var batch []Message
		for i := 0; i < perDay; i++ {
			batch = append(batch, incoming("ward7@hospital.example", fmt.Sprintf("d%d-%d", d, i),
				marker(d, i)+"Bed 12 potassium", day0.Add(time.Duration(d)*24*time.Hour+time.Duration(i)*time.Minute)))
		}
		mustAppend(t, s, batch...)
	}
	master := clone(s.master)
	// Fill the filesystem, all but a little.
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	// Leave room for the purge's own commit, not for a compacted copy.
	st, _ := f.Stat()
	f.Truncate(st.Size() - 64<<10)
	f.Close()
	cut := day0.Truncate(24 * time.Hour).Add(2 * 24 * time.Hour)
	rep, perr := s.Purge(cut)
	if err = perr; !errors.Is(err, syscall.ENOSPC) || !rep.CompactionPending || !rep.Scrubbed {
		t.Fatalf("purge on a full disk: %+v %v", rep, err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recovered, _ := forensicRecover(t, raw, master, nil)
	for d := 0; d < days; d++ {
		for i := 0; i < perDay; i++ {
			if found := bytes.Contains(recovered, []byte(marker(d, i))); found != (d >= 2) {
				t.Fatalf("full disk: message day %d #%d recovered=%v", d, i, found)
			}
		}
	}
	t.Logf("file %d KiB, compaction failed with %v, nothing purged recoverable", len(raw)>>10, perr)
	os.Remove(ballast)
	if rep, err = s.Purge(cut); err != nil || rep.CompactionPending {
		t.Fatalf("retry with space: %+v %v", rep, err)
	}
}
