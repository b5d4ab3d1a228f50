package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	gosync "sync"
	"time"

	"rounds/media"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// People's pictures (XEP-0084). Read with their cards (RefreshProfiles:
// after a fresh sign-in for cards older than profileMaxAge, and whenever
// the app asks), followed from then on (new metadata arrives as a PEP
// notification and the picture it names is fetched off the read loop),
// and kept sealed in the store (securestore.PutAvatar) so faces show while
// offline. A picture is kept only when its bytes are what its metadata
// announced (size and SHA-1 id, xmpp.ParseAvatarData) and they decode as
// the PNG or JPEG they claim to be, no larger than xmpp.MaxAvatarSide on
// each side. Anything else is refused and the person shows by their
// initials: a picture that fails its checks also replaces one kept before,
// because the one kept is no longer the picture they publish.

// ErrAvatarRefused wraps why a person's picture was not kept.
var ErrAvatarRefused = errors.New("sync: picture refused")

// OwnAvatarSide is the longest side of the picture this account publishes.
const OwnAvatarSide = 96

// checkPicture: data is a picture of type typ within the size limits.
func checkPicture(data []byte, typ string) error {
	if got := media.Detect(data); got != typ {
		return fmt.Errorf("%w: the data is %s, not the %s announced", ErrAvatarRefused, got, typ)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrAvatarRefused, err)
	}
	if cfg.Width > xmpp.MaxAvatarSide || cfg.Height > xmpp.MaxAvatarSide {
		return fmt.Errorf("%w: %d×%d pixels, more than %d a side", ErrAvatarRefused, cfg.Width, cfg.Height, xmpp.MaxAvatarSide)
	}
	if _, _, err := media.Decode(data); err != nil {
		return fmt.Errorf("%w: %v", ErrAvatarRefused, err)
	}
	return nil
}

// avatarWanted is the last metadata id seen for each person (avatars.go):
// a fetch finishing after a newer announcement does not overwrite it.
type avatarWanted struct {
	mu   gosync.Mutex
	last map[string]string
}

func (w *avatarWanted) set(bare, id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]string{}
	}
	w.last[bare] = id
}

func (w *avatarWanted) is(bare, id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	got, ok := w.last[bare]
	return !ok || got == id
}

// applyAvatar brings the kept picture of bare in line with metadata m
// (present: ok): fetched and checked when it is new, deleted when taken
// down or refused. It reports whether what is kept changed.
func (s *Session) applyAvatar(ctx context.Context, c *xmpp.Client, bare string, m xmpp.AvatarMetadata, ok bool) (bool, error) {
	kept, err := s.store.Avatar(bare)
	had := err == nil
	if err != nil && !errors.Is(err, securestore.ErrNotFound) {
		return false, err
	}
	if !ok || m.Info == nil {
		if !had {
			return false, nil
		}
		return true, s.store.DeleteAvatar(bare)
	}
	if had && kept.ID == m.Info.ID {
		return false, nil
	}
	data, err := c.FetchAvatarData(ctx, bare, *m.Info)
	if err == nil {
		err = checkPicture(data, m.Info.Type)
	}
	if err != nil {
		var se *xmpp.StanzaError
		if errors.As(err, &se) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, xmpp.ErrDisconnected) {
			return false, err // not read: keep what we have, try again later
		}
		if had && s.avatars.is(bare, m.Info.ID) {
			if derr := s.store.DeleteAvatar(bare); derr != nil {
				return false, derr
			}
			return true, err
		}
		return false, err
	}
	if !s.avatars.is(bare, m.Info.ID) {
		return false, nil // a newer picture was announced meanwhile
	}
	return true, s.store.PutAvatar(bare, securestore.Avatar{ID: m.Info.ID, Type: m.Info.Type, Data: data, Fetched: time.Now()})
}

// refreshAvatar reads bare's metadata now and applies it, then follows
// their next pictures.
func (s *Session) refreshAvatar(ctx context.Context, c *xmpp.Client, bare string) (bool, error) {
	m, ok, err := c.FetchAvatarMetadata(ctx, bare)
	if errors.Is(err, xmpp.ErrAvatar) {
		ok, err = false, nil // metadata Rounds cannot use: no picture
	}
	if err != nil {
		return false, err
	}
	if ok && m.Info != nil {
		s.avatars.set(bare, m.Info.ID)
	} else {
		s.avatars.set(bare, "")
	}
	changed, err := s.applyAvatar(ctx, c, bare, m, ok)
	if ferr := c.FollowAvatar(ctx, bare); ferr != nil {
		s.log.Info("sync: picture updates not followed", "err", ferr)
	}
	return changed, err
}

// onAvatar handles a notification of someone's new picture (on the read
// loop: no IQ here; the fetch runs on its own goroutine). As with cards,
// only people whose cards we keep are followed.
func (s *Session) onAvatar(bare string, m xmpp.AvatarMetadata) {
	if _, ok := Profiles(s.store)[bare]; !ok {
		return
	}
	id := ""
	if m.Info != nil {
		id = m.Info.ID
	}
	s.avatars.set(bare, id)
	c := s.currentClient()
	if c == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.StepTimeout)
		defer cancel()
		changed, err := s.applyAvatar(ctx, c, bare, m, true)
		if err != nil {
			s.log.Info("sync: picture not kept", "err", err)
		}
		if changed {
			s.emit(ProfilesUpdated{})
		}
	}()
}

// TakeDownAvatar takes this account's picture down (followers show its
// initials) and forgets the copy kept.
func (s *Session) TakeDownAvatar(ctx context.Context) error {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return ErrNotConnected
	}
	if err := c.TakeDownAvatar(ctx); err != nil {
		return err
	}
	s.avatars.set(s.account, "")
	if err := s.store.DeleteAvatar(s.account); err != nil {
		return err
	}
	s.emit(ProfilesUpdated{})
	return nil
}

// PublishAvatar publishes data (a PNG or JPEG picture) as this account's
// picture, scaled down to OwnAvatarSide without its metadata, and keeps it.
func (s *Session) PublishAvatar(ctx context.Context, data []byte) error {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return ErrNotConnected
	}
	typ := media.Detect(data)
	if typ != "image/png" {
		typ = "image/jpeg"
	}
	small, err := media.Shrink(data, typ, OwnAvatarSide)
	if err != nil {
		return err
	}
	if len(small) > xmpp.MaxAvatarBytes && typ == "image/png" {
		typ = "image/jpeg" // a noisy PNG: a JPEG of it is smaller
		if small, err = media.Shrink(data, typ, OwnAvatarSide); err != nil {
			return err
		}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(small))
	if err != nil {
		return err
	}
	id, err := c.PublishAvatar(ctx, small, typ, cfg.Width, cfg.Height)
	if err != nil {
		return err
	}
	s.avatars.set(s.account, id)
	if err := s.store.PutAvatar(s.account, securestore.Avatar{ID: id, Type: typ, Data: small, Fetched: time.Now()}); err != nil {
		return err
	}
	s.emit(ProfilesUpdated{})
	return nil
}
