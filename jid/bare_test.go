package jid

import "testing"

// bareByParts is Bare as it was before its no-allocation path: parse, fold,
// build the bare form anew.
func bareByParts(s string) string {
	j, err := Parse(s)
	if err != nil {
		return ""
	}
	return j.Bare().String()
}

var bareSeeds = []string{
	"ana@h.org", "ana@h.org/x", "ANA@h.org/x", "ana@H.ORG", "h.org", "h.org.", "H.org/x", "ana@h.org./x",
	"a/b@c", "a@b@c", "@h.org", "ana@", "ana@h.org/", "/x", "",
	"\u212Aate@h.org",  // KELVIN SIGN: strings.ToLower folds it to "k"
	"\u0130lker@h.org", // İ lowercases to two runes: the folded form is longer
	"ǅ@h.org", "ÅNA@h.org", "ana@h\u0307.org", "e\u0301@h.org", "é@h.org", "ａna@h.org",
}

// TestBareIsParseFolded: the bare form returned without allocating is, for
// every address, the one Parse's fold builds: an address counts as already
// folded only if it is byte for byte its own folded form, so no mixed-case
// or otherwise unfolded address from the network is returned as it came.
func TestBareIsParseFolded(t *testing.T) {
	for _, s := range bareSeeds {
		if got, want := Bare(s), bareByParts(s); got != want {
			t.Errorf("Bare(%q) = %q, folded by parts %q", s, got, want)
		}
	}
	// The same person however the server or a peer spells the address.
	for _, s := range []string{"ANA@h.org", "Ana@H.org/phone", "ana@h.org./desk"} {
		if !SameBare(s, "ana@h.org") {
			t.Errorf("SameBare(%q, ana@h.org) = false", s)
		}
	}
}

func FuzzBare(f *testing.F) {
	for _, s := range bareSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := Bare(s), bareByParts(s); got != want {
			t.Fatalf("Bare(%q) = %q, folded by parts %q", s, got, want)
		}
	})
}
