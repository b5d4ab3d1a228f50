package xmpp

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestFuzzCorpusInSync keeps testdata/fuzz/FuzzDecodeStanza (the seed corpus
// `go test` runs) equal to the good_/fail_ vectors. ROUNDS_WRITE_CORPUS=1 rewrites it.
func TestFuzzCorpusInSync(t *testing.T) {
	files, _ := filepath.Glob("testdata/*_*.xml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		dst := filepath.Join("testdata/fuzz/FuzzDecodeStanza", filepath.Base(p[:len(p)-4]))
		if os.Getenv("ROUNDS_WRITE_CORPUS") != "" {
			if err := os.WriteFile(dst, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(dst)
		if err != nil || string(got) != want {
			t.Errorf("%s out of date: run ROUNDS_WRITE_CORPUS=1 go test -run TestFuzzCorpusInSync", dst)
		}
	}
}
