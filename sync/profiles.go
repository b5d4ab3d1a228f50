package sync

import (
	"context"
	"encoding/json"
	"image/color"
	"time"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// People's own cards (XEP-0292 vCard4): read from each contact's PEP node
// after every fresh sign-in (when the copy kept is older than
// profileMaxAge), followed from then on (a new card arrives as a PEP
// notification), kept in the store so names show while offline, and
// reported as ProfilesUpdated. A card is its owner's claim about
// themselves: the app decides how far to trust a name from one.

// Profile is what a person's card says, as last read.
type Profile struct {
	Name  string `json:"name,omitempty"`
	Role  string `json:"role,omitempty"`
	Unit  string `json:"unit,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Read is when the card was read; a zero Profile with Read set means
	// they publish none.
	Read time.Time `json:"read"`
}

// ProfilesUpdated: cards were read (some may have changed).
type ProfilesUpdated struct{}

const (
	settingProfiles = "sync.profiles"
	profileMaxAge   = 24 * time.Hour
	maxProfiles     = 5000
)

// Profiles is every card kept in st, by bare JID (empty when none, or when
// the record cannot be read: names then fall back to addresses).
func Profiles(st *securestore.Store) map[string]Profile {
	out := map[string]Profile{}
	b, err := st.Setting(settingProfiles)
	if err != nil || len(b) == 0 {
		return out
	}
	if json.Unmarshal(b, &out) != nil {
		return map[string]Profile{}
	}
	return out
}

// PersonColour is the XEP-0392 colour of an address (never of a name).
func PersonColour(bare string) color.NRGBA { return xmpp.ConsistentColor(xmpp.BareJID(bare)) }

// PublishProfile publishes this account's own card.
func (s *Session) PublishProfile(ctx context.Context, p Profile) error {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return ErrNotConnected
	}
	if err := c.PublishVCard(ctx, xmpp.VCard{Name: p.Name, Role: p.Role, Unit: p.Unit, Phone: p.Phone}); err != nil {
		return err
	}
	return s.keepProfiles(map[string]Profile{s.account: fromVCard(ctx, c, s.account)})
}

func fromVCard(ctx context.Context, c *xmpp.Client, bare string) Profile {
	v, _, err := c.FetchVCard(ctx, bare)
	if err != nil {
		return Profile{}
	}
	return Profile{Name: v.Name, Role: v.Role, Unit: v.Unit, Phone: v.Phone, Read: time.Now()}
}

// RefreshProfiles reads the cards of bares now (whatever their age) and
// reports ProfilesUpdated.
func (s *Session) RefreshProfiles(ctx context.Context, bares ...string) error {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return ErrNotConnected
	}
	got := map[string]Profile{}
	for _, b := range bares {
		v, ok, err := c.FetchVCard(ctx, b)
		if err != nil {
			return err
		}
		p := Profile{Read: time.Now()}
		if ok {
			p = Profile{Name: v.Name, Role: v.Role, Unit: v.Unit, Phone: v.Phone, Read: p.Read}
		}
		got[xmpp.BareJID(b)] = p
		// Ask for their next card as they publish it (names change without
		// a new sign-in). A server that refuses costs only the live update.
		if err := c.FollowVCard(ctx, b); err != nil {
			s.log.Info("sync: card updates not followed", "err", err)
		}
		// Their picture (avatars.go): one refused costs only the picture.
		if _, err := s.refreshAvatar(ctx, c, b); err != nil {
			s.log.Info("sync: picture not kept", "err", err)
		}
	}
	if err := s.keepProfiles(got); err != nil {
		return err
	}
	s.emit(ProfilesUpdated{})
	return nil
}

// followProfiles reads the cards of the roster and the 1:1 conversations
// (and our own) not read for profileMaxAge. It runs after every fresh
// sign-in, off the setup path.
func (s *Session) followProfiles(ctx context.Context, c *xmpp.Client) {
	kept := Profiles(s.store)
	want := map[string]bool{s.account: true}
	if cs, err := s.store.Contacts(); err == nil {
		for _, ct := range cs {
			want[xmpp.BareJID(ct.JID)] = true
		}
	}
	if convs, err := s.store.Conversations(); err == nil {
		for _, cv := range convs {
			if cv.Kind != securestore.KindRoom {
				want[xmpp.BareJID(cv.ID)] = true
			}
		}
	}
	var due []string
	for b := range want {
		if p, ok := kept[b]; b != "" && (!ok || time.Since(p.Read) > profileMaxAge) {
			due = append(due, b)
		}
	}
	if len(due) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.StepTimeout*time.Duration(1+len(due)/10))
	defer cancel()
	if err := s.RefreshProfiles(sctx, due...); err != nil {
		s.log.Info("sync: cards not read", "err", err)
	}
}

// onVCard keeps a card that arrived as a PEP notification (runs on the
// read loop: one store write, no IQ). Only people whose cards we already
// read are kept: anyone can send us an event, and a stranger's card would
// only grow the store.
func (s *Session) onVCard(bare string, v xmpp.VCard) {
	if _, ok := Profiles(s.store)[bare]; !ok {
		return
	}
	if err := s.keepProfiles(map[string]Profile{bare: {Name: v.Name, Role: v.Role, Unit: v.Unit, Phone: v.Phone, Read: time.Now()}}); err != nil {
		s.log.Info("sync: card not kept", "err", err)
		return
	}
	s.emit(ProfilesUpdated{})
}

// keepProfiles merges got into the cards kept.
func (s *Session) keepProfiles(got map[string]Profile) error {
	s.profilesMu.Lock()
	defer s.profilesMu.Unlock()
	all := Profiles(s.store)
	for b, p := range got {
		if len(all) >= maxProfiles {
			if _, ok := all[b]; !ok {
				continue
			}
		}
		all[b] = p
	}
	buf, err := json.Marshal(all)
	if err != nil {
		return err
	}
	return s.store.SetSetting(settingProfiles, buf)
}
func (ProfilesUpdated) isEvent() {}
