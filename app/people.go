package app

import (
	"strings"
	"unicode"

	"rounds/jid"
	"rounds/securestore"
	"rounds/sync"
)

// People, not addresses. A person is shown by the name the user's roster
// gives them (the user's or the hospital's choice), else by the name their
// own vCard4 card claims (XEP-0292, read by sync), else by their address's
// local part; this account is "You". A card is its owner's claim: anyone
// can call themselves "Dr Osei". So a card name is shown alone only when no
// other person shows under a name that reads the same (case, spacing,
// punctuation and look-alike letters aside); otherwise it is shown with
// the address it came from, "Dr Osei (mallory)", and so are both of two
// cards claiming one name. The address itself, which the server vouches
// for, is always one tap away (the header's subtitle, the directory).

// Person is how the screens show someone.
type Person struct {
	Address string // bare JID
	Name    string
	// Claimed: the name comes from the person's own card, not the roster.
	Claimed           bool
	Role, Unit, Phone string // from their card, as they claim them
	Self              bool
	Avatar            Avatar
}

// selfName is how this account is named to its user.
const selfName = "You"

// loadContacts is the roster with the names to show: a roster name as
// chosen; else the person's card name, set apart with the address when it
// reads like another's; this account as "You".
func loadContacts(st *securestore.Store) (contactNames, error) {
	cs, err := st.Contacts()
	if err != nil {
		return nil, err
	}
	out := make(contactNames, len(cs))
	for _, ct := range cs {
		ct.Name = strings.TrimSpace(ct.Name)
		out[ct.JID] = ct
	}
	nameCards(out, sync.Profiles(st))
	if a, err := st.Account(); err == nil && a.JID != "" {
		ct := out[a.JID]
		ct.JID, ct.Name = a.JID, selfName
		out[a.JID] = ct
	}
	return out, nil
}

// nameCards gives the people without a roster name their card's name,
// with the address's local part after it when the name reads like another
// person's.
func nameCards(out contactNames, cards map[string]sync.Profile) {
	owners := map[string]map[string]bool{} // skeleton → who shows under it
	note := func(name, who string) {
		k := nameSkeleton(name)
		if k == "" {
			return
		}
		if owners[k] == nil {
			owners[k] = map[string]bool{}
		}
		owners[k][who] = true
	}
	for j, ct := range out {
		if ct.Name != "" {
			note(ct.Name, j)
		}
	}
	claims := map[string]string{}
	for j, p := range cards {
		if p.Name == "" || out[j].Name != "" {
			continue
		}
		claims[j] = p.Name
		note(p.Name, j)
	}
	for j, name := range claims {
		if len(owners[nameSkeleton(name)]) > 1 {
			name += " (" + localPart(j) + ")"
		}
		ct := out[j]
		ct.JID, ct.Name = j, name
		out[j] = ct
	}
}

// lookalike maps letters that read as Latin ones in common fonts.
var lookalike = map[rune]rune{
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ɡ': 'g', 'ӏ': 'l',
	'α': 'a', 'β': 'b', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x',
	'0': 'o', '1': 'l', '|': 'l',
}

// nameSkeleton is how a name reads: lower case, letters and digits only,
// look-alikes folded ("Dr. Osei", "dr osei", "Dr Оsei" with a Cyrillic О
// read the same).
func nameSkeleton(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if l, ok := lookalike[r]; ok {
			r = l
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	s := b.String()
	s = strings.ReplaceAll(s, "rn", "m") // "rn" reads as "m"
	return s
}

// Person is how the screens show the person at address.
func (c *Client) Person(address string) Person {
	bare := jid.Bare(address)
	p := Person{Address: bare, Name: localPart(bare), Self: jid.SameBare(bare, c.Account())}
	if st, err := c.unlocked(); err == nil {
		if names, err := loadContacts(st); err == nil {
			if ct, ok := names[bare]; ok && ct.Name != "" {
				p.Name = ct.Name
			}
		}
		card, ok := sync.Profiles(st)[bare]
		if ok {
			p.Role, p.Unit, p.Phone = card.Role, card.Unit, card.Phone
			if ct, err := st.Contact(bare); (err != nil || strings.TrimSpace(ct.Name) == "") && card.Name != "" {
				p.Claimed = true
			}
		}
	}
	if p.Self {
		p.Name, p.Claimed = selfName, false
	}
	p.Avatar = AvatarOf(p.Name, bare)
	if st, err := c.unlocked(); err == nil {
		p.Avatar = c.avatarOf(st, p.Name, bare)
	}
	return p
}

// initials are up to two letters for an avatar: the first letters of the
// name's first and last words once the titles in front of it are set
// aside ("Dr Ama Osei" and "Ama Osei" are both "AO", "Charge Nurse Bob
// Mensah" is "BM") and the letters after it ("Ama Osei RN"). A name that
// is a title and one word ("Dr Osei") gives that word's one letter: a
// second letter from the title would read as a first name. A name of
// titles only keeps them ("Sister" is "S"); no name, the address's local
// part. A copy of the address in brackets ("Dr Osei (mallory)") is not
// part of the name.
func initials(name, address string) string {
	words := strings.FieldsFunc(strings.TrimSpace(strings.Split(name, " (")[0]), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	keep := words
	for len(keep) > 0 && nameTitles[strings.ToLower(keep[0])] {
		keep = keep[1:]
	}
	for len(keep) > 1 && nameLetters[strings.ToLower(keep[len(keep)-1])] {
		keep = keep[:len(keep)-1]
	}
	if len(keep) == 0 {
		keep = words
	}
	if len(keep) == 0 {
		keep = strings.FieldsFunc(localPart(address), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})
	}
	if len(keep) == 0 {
		return "?"
	}
	first := []rune(keep[0])
	out := string(unicode.ToUpper(first[0]))
	if len(keep) > 1 {
		last := []rune(keep[len(keep)-1])
		out += string(unicode.ToUpper(last[0]))
	}
	return out
}

// nameTitles are the words set before a name in a hospital (lower case,
// without their full stop): forms of address and the job titles people
// put in front of their name.
var nameTitles = map[string]bool{
	"dr": true, "doctor": true, "prof": true, "professor": true, "mr": true, "mrs": true,
	"ms": true, "miss": true, "mx": true, "sir": true, "dame": true, "rev": true,
	"nurse": true, "sister": true, "matron": true, "charge": true, "staff": true,
	"midwife": true, "sr": true,
}

// nameLetters are the letters set after a name (qualifications,
// registrations).
var nameLetters = map[string]bool{
	"rn": true, "rgn": true, "rm": true, "md": true, "mbbs": true, "phd": true,
	"frcp": true, "frcs": true, "mrcp": true, "bsc": true, "msc": true, "jr": true,
}

// AvatarOf is the avatar of the person named name at address (the screens' test
// fixtures use it too).
func AvatarOf(name, address string) Avatar {
	return Avatar{Initials: initials(name, address), Colour: sync.PersonColour(address)}
}
