package securestore

import (
	"runtime"
	"strings"
	"testing"
	"unsafe"
	"weak"
)

// TestStoreKeepsNoCallerMemory: what the store keeps in memory for the
// session (the conversation cache, an active search index's names and
// patient tags) are its own copies. A message's strings are often parts of
// a much larger buffer (sync decodes each received frame in place): kept as
// they are, a 9-byte conversation id would keep a frame of up to 2 MiB alive.
func TestStoreKeepsNoCallerMemory(t *testing.T) {
	s, _, _ := newTestStore(t)
	if err := s.BuildSearchIndex(); err != nil {
		t.Fatal(err)
	}
	for round, conv := range []string{"ana@h.org", "bob@h.org"} {
		wp := func() weak.Pointer[byte] {
			frame := conv + "/phone MRN-77 Ama Osei 4B " + strings.Repeat("x", 1<<20)
			part := func(s string) string { i := strings.Index(frame, s); return frame[i : i+len(s)] }
			m := incoming(part(conv), "s"+conv, "BP 120/80", day0)
			m.From = part(conv + "/phone") // no ExtraSender: the index names the sender from From
			m.Extra = map[string]string{ExtraPatientMRN: part("MRN-77"), ExtraPatientName: part("Ama Osei"), ExtraPatientBed: part("4B")}
			if round == 1 {
				m.Extra[ExtraPatientMRN] = part("MRN-77 Ama") // a patient tag the index has not seen
			}
			if added := mustAppend(t, s, m); len(added) != 1 {
				t.Fatalf("%s: added %d", conv, len(added))
			}
			return weak.Make(unsafe.StringData(frame))
		}()
		runtime.GC()
		runtime.GC()
		if wp.Value() != nil {
			t.Errorf("%s: the store keeps the 1 MiB buffer its message's strings came from alive", conv)
		}
	}
	if r, err := s.Search(SearchQuery{Text: "120"}); err != nil || len(r.Hits) != 2 {
		t.Fatalf("search after the appends: %+v %v", r, err)
	}
}
