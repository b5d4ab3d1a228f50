package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"rounds/jid"
	"rounds/securestore"
)

// A hospital phone is shared: a different nurse each shift. Each member of
// staff who signs in on the device has a profile: an encrypted store of their
// own, locked by their own PIN, in a directory of its own:
//
//	<DataDir>/profiles.json                  the profile list (not secret)
//	<DataDir>/profiles/<id>/store.db         the profile's encrypted store
//	<DataDir>/profiles/<id>/store.db.vault/  its attachment vault
//
// <id> is the first 16 hex digits of sha256(lower-case bare JID), as the
// single store file of earlier versions was named (<DataDir>/<id>.db; those
// are moved into the layout above, see migrateProfiles). The list says who
// uses this device, so that the lock screen can show who is signed in and
// offer "Switch user" without a PIN: the account (bare JID), the name shown,
// when the profile was last used and, after "End shift" with keeping, until
// when it is kept. Nothing else: no message, contact, key or PIN length.
// docs/STORE.md, "Profiles on a shared device".
const (
	profileListName  = "profiles.json"
	profilesDirName  = "profiles"
	profileStoreName = "store.db"
	storeExt         = ".db"
)

// Profile is one member of staff set up on this device, as the lock screen
// shows them before any PIN is typed.
type Profile struct {
	ID string `json:"id"`
	// Account is the bare JID; empty for a store moved from the
	// single-profile layout and not unlocked since (it is learnt then).
	Account  string    `json:"account,omitempty"`
	Name     string    `json:"name,omitempty"`
	LastUsed time.Time `json:"last_used,omitzero"`
	// ShiftEnded is set when the person ended their shift and the policy
	// kept the profile (locked) for their next one, until KeepUntil; past
	// that the profile is removed without being opened.
	ShiftEnded time.Time `json:"shift_ended,omitzero"`
	KeepUntil  time.Time `json:"keep_until,omitzero"`
}

// Label is how the lock screen names the profile.
func (p Profile) Label() string {
	switch {
	case p.Name != "":
		return p.Name
	case p.Account != "":
		return localPart(p.Account)
	}
	return "The person signed in on this device"
}

// profileFile is the list on disk.
type profileFile struct {
	Version  int       `json:"version"`
	Profiles []Profile `json:"profiles"`
}

// profilesMu serialises reading and rewriting the list within this process
// (one app per device; the headless tools never use profiles).
var profilesMu gosync.Mutex

// profileID names an account's profile directory.
func profileID(account string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(jid.Bare(account))))
	return hex.EncodeToString(sum[:])[:16]
}

func validProfileID(id string) bool {
	if len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// ProfileStorePath is where profile id keeps its store in dataDir.
func ProfileStorePath(dataDir, id string) string {
	return filepath.Join(dataDir, profilesDirName, id, profileStoreName)
}

// StorePath is where the store of account (a bare JID) lives in dataDir.
func StorePath(dataDir, account string) string {
	return ProfileStorePath(dataDir, profileID(account))
}

// Profiles lists the profiles on this device, the one used last first. It
// moves a single-profile install into the profile layout first, drops
// entries whose store is gone (wiped after too many wrong PINs), lists
// stores the list does not know (with no name until unlocked), and removes
// the profiles kept after "End shift" whose keep time has passed.
func Profiles(cfg Config) ([]Profile, error) {
	cfg = cfg.withDefaults()
	profilesMu.Lock()
	defer profilesMu.Unlock()
	return reconcileProfilesLocked(cfg)
}

func reconcileProfilesLocked(cfg Config) ([]Profile, error) {
	if err := migrateProfiles(cfg); err != nil {
		return nil, err
	}
	list, err := readProfiles(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	onDisk, err := profileDirs(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	now := cfg.Clock.Now()
	var out []Profile
	changed := false
	for _, p := range list {
		switch {
		case !slices.Contains(onDisk, p.ID):
			changed = true // its store is gone (wiped); forget it
			continue
		case !p.KeepUntil.IsZero() && !now.Before(p.KeepUntil):
			changed = true
			if err := removeProfileData(cfg, p.ID); err != nil {
				cfg.Logger.Warn("app: removing an expired profile", "err", err)
				out = append(out, p)
				continue
			}
			cfg.Logger.Info("app: removed a profile kept after end of shift; its keep time passed")
			continue
		}
		out = append(out, p)
	}
	for _, id := range onDisk {
		if !slices.ContainsFunc(out, func(p Profile) bool { return p.ID == id }) &&
			!slices.ContainsFunc(list, func(p Profile) bool { return p.ID == id }) {
			out = append(out, Profile{ID: id})
			changed = true
		}
	}
	slices.SortStableFunc(out, func(a, b Profile) int { return b.LastUsed.Compare(a.LastUsed) })
	if changed {
		if err := writeProfiles(cfg.DataDir, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// profileDirs lists the profile ids that have a store on disk; an empty
// directory a wipe left behind is removed.
func profileDirs(dataDir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dataDir, profilesDirName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || !validProfileID(e.Name()) {
			continue
		}
		if fi, err := os.Stat(ProfileStorePath(dataDir, e.Name())); err == nil && fi.Mode().IsRegular() {
			out = append(out, e.Name())
			continue
		}
		// No store: a wipe removed it. Remove what is left (an empty
		// directory, or a vault without its key).
		_ = os.RemoveAll(filepath.Join(dataDir, profilesDirName, e.Name()))
	}
	return out, nil
}

func readProfiles(dataDir string) ([]Profile, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, profileListName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f profileFile
	if err := json.Unmarshal(b, &f); err != nil {
		// The list is rebuilt from the stores on disk (names come back
		// at the next unlock of each); nothing is lost but the names.
		return nil, nil
	}
	var out []Profile
	for _, p := range f.Profiles {
		if validProfileID(p.ID) && !slices.ContainsFunc(out, func(q Profile) bool { return q.ID == p.ID }) {
			out = append(out, p)
		}
	}
	return out, nil
}

// writeProfiles replaces the list atomically (a crash leaves the old or the
// new list, never half of one).
func writeProfiles(dataDir string, list []Profile) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(profileFile{Version: 1, Profiles: list}, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dataDir, profileListName)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// updateProfile applies fn to profile id in the list (adding it when new)
// and writes the list.
func updateProfile(cfg Config, id string, fn func(*Profile)) error {
	profilesMu.Lock()
	defer profilesMu.Unlock()
	list, err := readProfiles(cfg.DataDir)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(p Profile) bool { return p.ID == id })
	if i < 0 {
		list = append(list, Profile{ID: id})
		i = len(list) - 1
	}
	fn(&list[i])
	return writeProfiles(cfg.DataDir, list)
}

// forgetProfile removes id from the list.
func forgetProfile(cfg Config, id string) error {
	profilesMu.Lock()
	defer profilesMu.Unlock()
	list, err := readProfiles(cfg.DataDir)
	if err != nil {
		return err
	}
	list = slices.DeleteFunc(list, func(p Profile) bool { return p.ID == id })
	return writeProfiles(cfg.DataDir, list)
}

// profileUsed records that account's profile was just opened (it becomes
// the one the lock screen offers first) and names it.
func profileUsed(cfg Config, account string) {
	if err := updateProfile(cfg, profileID(account), func(p *Profile) {
		p.Account = jid.Bare(account)
		if p.Name == "" {
			p.Name = localPart(p.Account)
		}
		p.LastUsed = cfg.Clock.Now()
		p.ShiftEnded, p.KeepUntil = time.Time{}, time.Time{} // back for a new shift
	}); err != nil {
		cfg.Logger.Warn("app: profile list not updated", "err", err)
	}
}

// removeProfileData destroys profile id's store without its key
// (securestore.Remove) and its directory.
func removeProfileData(cfg Config, id string) error {
	if err := securestore.Remove(ProfileStorePath(cfg.DataDir, id), cfg.storeOptions()); err != nil {
		return err
	}
	return os.RemoveAll(filepath.Join(cfg.DataDir, profilesDirName, id))
}

// migrateProfiles moves the stores of the single-profile layout
// (<DataDir>/<id>.db and <id>.db.vault) into profile directories. Each step
// is a rename within DataDir, so a crash leaves every byte in one place or
// the other, and the next start finishes the move. A store already in the
// new layout is never overwritten.
func migrateProfiles(cfg Config) error {
	ents, err := os.ReadDir(cfg.DataDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		id, isStore := strings.CutSuffix(n, storeExt)
		vaultID, isVault := strings.CutSuffix(n, storeExt+".vault")
		switch {
		case isStore && e.Type().IsRegular() && validProfileID(id):
		case isVault && e.IsDir() && validProfileID(vaultID):
			id = vaultID
		default:
			continue
		}
		to := ProfileStorePath(cfg.DataDir, id)
		from := filepath.Join(cfg.DataDir, id+storeExt)
		if isVault {
			from, to = from+".vault", to+".vault"
		}
		if _, err := os.Stat(to); err == nil {
			cfg.Logger.Warn("app: a store of the old layout is left beside its profile; not moved", "file", n)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
			return err
		}
		if err := os.Rename(from, to); err != nil {
			return fmt.Errorf("app: moving the store into its profile: %w", err)
		}
		cfg.Logger.Info("app: moved a store into the profile layout")
	}
	return nil
}

// ErrChooseProfile: several people have profiles on this device; say whose
// PIN this is (UnlockProfile).
var ErrChooseProfile = errors.New("several people use this device: choose who you are")

// ErrNoSuchProfile: the profile is not (or no longer) on this device.
var ErrNoSuchProfile = errors.New("this person is no longer set up on this device")

// UnlockProfile opens profile id with its PIN and starts syncing, as Unlock
// does for the only profile. A wrong PIN counts against that profile's store
// only. The caller must have signed out the Client of whoever used the
// device before (Client.SignOut), so that nothing of theirs stays in memory.
func UnlockProfile(ctx context.Context, cfg Config, id string, pin []byte) (*Client, error) {
	cfg = cfg.withDefaults()
	list, err := Profiles(cfg)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(list, func(p Profile) bool { return p.ID == id }) {
		return nil, ErrNoSuchProfile
	}
	path := ProfileStorePath(cfg.DataDir, id)
	st, err := openStore(path, pin, cfg)
	if err != nil {
		if errors.Is(err, ErrWiped) {
			_, _ = Profiles(cfg) // forget it
		}
		return nil, err
	}
	c := newClient(cfg, path)
	c.setPINLen(pin)
	if err := c.start(st); err != nil {
		c.changes.close()
		st.Close()
		return nil, err
	}
	profileUsed(cfg, c.Account())
	return c, nil
}

// HasAccount reports whether anyone is set up on this device, so the UI
// shows the lock screen rather than sign-in.
func HasAccount(cfg Config) bool {
	list, err := Profiles(cfg)
	return err == nil && len(list) > 0
}

// onlyProfile is the profile Unlock and UnlockWithKeyring open: the only
// one, or ErrChooseProfile when there are several.
func onlyProfile(cfg Config) (string, error) {
	list, err := Profiles(cfg)
	if err != nil {
		return "", err
	}
	switch len(list) {
	case 0:
		return "", ErrNoAccount
	case 1:
		return list[0].ID, nil
	}
	return "", ErrChooseProfile
}

// lockedFor is " for <name>" when the policy lets a locked device's
// notification name the person it is for (Policy.NameWhileLocked), else
// "": on a shared phone the lock screen shows the name anyway (the profile
// list), and the notification then tells whoever holds the phone whom to
// hand it to.
func (c *Client) lockedFor() string {
	if !c.Policy().NameWhileLocked {
		return ""
	}
	if name := localPart(c.Account()); name != "" {
		return " for " + name
	}
	return ""
}
