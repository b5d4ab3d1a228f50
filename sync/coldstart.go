package sync

import (
	"errors"
	"strings"

	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Listening from a cold start (docs/STORE.md, "Listening from a cold
// start"). After a restart the store stays closed until the PIN, yet a
// locked app should ring for a STAT. The app keeps, sealed under a key in
// the OS keyring, what a locked Session holds in memory anyway: the SCRAM
// keys, the store's public receive key and the rooms. StartLocked makes a
// Session from those that is locked from its first moment: it signs in
// with the keys, joins the rooms, seals what arrives into the locked inbox
// and never touches the store (cfg.Store is one the process has not
// opened: securestore.NotOpened). A server that refuses the keys (the
// password was changed) ends Run with AuthFailed, once: no retry.

// Room is a room the account is in, as a locked Session needs it: the
// bare room JID and our nick there.
type Room struct {
	JID, Nick string
}

// Rooms lists the rooms the Session knows (joined or not), for what the
// app keeps for a cold start.
func (s *Session) Rooms() []Room {
	if !s.Locked() {
		// Before its first sign-in a Session knows the rooms only from
		// its store.
		if err := s.loadRooms(); err != nil {
			s.log.Warn("sync: rooms not read", "err", err)
		}
	}
	var out []Room
	for _, r := range s.roomList() {
		out = append(out, Room{JID: r.jid, Nick: r.nick})
	}
	return out
}

// StartLocked makes a Session that is locked from the start (see above):
// keys are the SCRAM keys to sign in with (a password is refused: the
// ticket never holds one), rooms the rooms to join, inbox where what
// arrives is sealed, answer what LockAnswering's answer is (nil: none).
// Run it as any Session; the unlock starts a new one on the opened store,
// which merges the inbox.
func StartLocked(cfg Config, inbox *securestore.Inbox, keys securestore.Credentials, rooms []Room, answer func(m securestore.Message, room bool)) (*Session, error) {
	if inbox == nil {
		return nil, errors.New("sync: StartLocked needs the locked inbox")
	}
	k, ok := scramKeys(keys)
	if !ok {
		return nil, errors.New("sync: StartLocked needs SCRAM keys")
	}
	cfg.XMPP.Credentials = xmpp.Credentials{Keys: []xmpp.SCRAMKeys{k}}
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	for _, r := range rooms {
		j, err := xmpp.ParseJID(r.JID)
		if err != nil || j.Local == "" || r.Nick == "" {
			continue
		}
		b := j.Bare().String()
		s.rooms[b] = &room{jid: b, nick: r.Nick, members: map[string]string{}}
	}
	s.mu.Unlock()
	s.lk.state.Store(&lockedState{inbox: inbox, creds: cfg.XMPP.Credentials, seen: map[string]bool{},
		pages: map[string]lockedPage{}, answer: answer, sent: map[string]bool{}})
	s.log.Info("sync: started locked; listening into the locked inbox")
	return s, nil
}

// scramKeys is the SCRAM key set kept in securestore.Credentials, as the
// xmpp client takes it (ok false: none kept).
func scramKeys(k securestore.Credentials) (xmpp.SCRAMKeys, bool) {
	if len(k.ClientKey) == 0 || len(k.ServerKey) == 0 {
		return xmpp.SCRAMKeys{}, false
	}
	hash := "SHA-1"
	if strings.HasPrefix(k.Mechanism, "SCRAM-SHA-256") {
		hash = "SHA-256"
	}
	return xmpp.SCRAMKeys{Hash: hash, Salt: k.Salt, Iterations: k.Iterations, ClientKey: k.ClientKey, ServerKey: k.ServerKey}, true
}
