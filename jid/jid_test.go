package jid

import "testing"

// TestParse: the parts, the case fold of localpart and domain (not of the
// resource), and the addresses refused.
func TestParse(t *testing.T) {
	j, err := Parse("Dr.Osei@H.org./Phone")
	if err != nil || j != (JID{Local: "dr.osei", Domain: "h.org", Resource: "Phone"}) {
		t.Fatalf("Parse: %+v, %v", j, err)
	}
	if j.String() != "dr.osei@h.org/Phone" || j.Bare().String() != "dr.osei@h.org" || j.IsZero() {
		t.Fatalf("String %q, Bare %q, IsZero %v", j.String(), j.Bare().String(), j.IsZero())
	}
	for _, bad := range []string{"", "a@", "@h.org", "a@h.org/", "a@b c", "a@b@c"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if Bare("not a jid") != "" || Bare("Ana@H.org/x") != "ana@h.org" {
		t.Errorf("Bare: %q %q", Bare("not a jid"), Bare("Ana@H.org/x"))
	}
	if !SameBare("ana@h.org/a", "ANA@h.org/b") || SameBare("ana@h.org", "bob@h.org") || SameBare("", "") {
		t.Error("SameBare")
	}
	for in, want := range map[string]string{"ana@h.org": "ana@h.org", "ana@h.org/x": "ana@h.org", "h.org/x": "h.org",
		"Ana@h.org/x": "ana@h.org", "ana@h.org./x": "ana@h.org", "ana@H.org": "ana@h.org", "h.org.": "h.org", "a/b@c": "a"} {
		if got := Bare(in); got != want {
			t.Errorf("Bare(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBareAllocates: the bare form of an address already folded is a part
// of it, not a new string (jid.Bare runs several times per stanza).
func TestBareAllocates(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = SameBare("ana@h.org/phone", "ana@h.org") }); n != 0 {
		t.Errorf("SameBare of folded addresses: %v allocations, want 0", n)
	}
}
