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
}
