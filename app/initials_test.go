package app

import "testing"

// TestInitialsSkipTitles: the titles in front of a name and the letters
// after it are not initials; a title with one name word gives one letter.
func TestInitialsSkipTitles(t *testing.T) {
	for _, c := range []struct{ name, address, want string }{
		{"Ama Osei", "ama@rounds.test", "AO"},
		{"Dr Ama Osei", "ama@rounds.test", "AO"},
		{"Dr. Ama Osei", "ama@rounds.test", "AO"},
		{"Prof Ama Osei", "ama@rounds.test", "AO"},
		{"Dr Osei", "dr.osei@rounds.test", "O"},
		{"Charge Nurse Bob Mensah", "bob@rounds.test", "BM"},
		{"Staff Nurse Kim Lee", "kim@rounds.test", "KL"},
		{"Sister Mary Jones", "mary@rounds.test", "MJ"},
		{"Mrs Jane Ward Smith", "jane@rounds.test", "JS"},
		{"Ama Osei RN", "ama@rounds.test", "AO"},
		{"Nurse", "n@rounds.test", "N"},
		{"Ama Nurse", "ama@rounds.test", "AN"}, // a surname, not a title
		{"Dr Osei (mallory)", "mallory@rounds.test", "O"},
		{"", "lab.bot@rounds.test", "LB"},
		{"", "kim@rounds.test", "K"},
		{"ógún adé", "o@rounds.test", "ÓA"},
	} {
		if got := initials(c.name, c.address); got != c.want {
			t.Errorf("initials(%q, %q) = %q, want %q", c.name, c.address, got, c.want)
		}
	}
}
