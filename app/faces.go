package app

import (
	"context"
	"errors"
	"image"
	gosync "sync"

	"rounds/media"
	"rounds/securestore"
	"rounds/sync"
)

// Faces: people's pictures (XEP-0084) where they publish one, initials on
// their address's colour where they do not. sync fetches, checks and keeps
// the pictures (sync/avatars.go); here they are decoded once, shrunk to
// what a screen draws, and handed to the screens with the person's
// initials, so every place a person appears shows the same face and falls
// back to the same initials. Decoded pictures are forgotten when pictures
// change (ProfilesUpdated) and when the Client locks.

// faceSide is the longest side of a decoded picture: enough for the
// largest avatar drawn (the alert card's) on a high-density screen.
const faceSide = 128

// maxFaces bounds the decoded pictures held (at most 64 KiB each): a
// directory of thousands does not keep thousands in memory. Past it the
// cache starts again.
const maxFaces = 512

// faceBook caches decoded pictures by bare JID (nil: none kept, or one
// that does not decode).
type faceBook struct {
	mu gosync.Mutex
	by map[string]image.Image
}

func (f *faceBook) forget() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.by = nil
}

// picture is bare's decoded picture from st, or nil.
func (f *faceBook) picture(st *securestore.Store, bare string) image.Image {
	f.mu.Lock()
	defer f.mu.Unlock()
	if img, ok := f.by[bare]; ok {
		return img
	}
	var img image.Image
	if a, err := st.Avatar(bare); err == nil {
		if got, o, err := media.Decode(a.Data); err == nil {
			img = media.Upright(media.Fit(got, faceSide), o)
		}
	}
	if f.by == nil || len(f.by) >= maxFaces {
		f.by = map[string]image.Image{}
	}
	f.by[bare] = img
	return img
}

// avatarOf is the avatar of the person named name at bare: their picture
// when one is kept, always with their initials and colour (drawn where
// the picture is not).
func (c *Client) avatarOf(st *securestore.Store, name, bare string) Avatar {
	av := AvatarOf(name, bare)
	if st != nil {
		av.Picture = c.faces.picture(st, bare)
	}
	return av
}

// ErrPictureOffline: a new picture needs a connection.
var ErrPictureOffline = errors.New("you are offline; change your picture once connected")

// ErrNoPicture: the chosen file is not a picture Rounds can publish.
var ErrNoPicture = errors.New("this file is not a picture Rounds can use (choose a PNG or JPEG)")

// SetOwnPicture publishes data (a PNG or JPEG the user chose) as this
// account's picture, shrunk to a small square-ish image without its
// metadata; colleagues see it where they see this account. Needs a
// connection.
func (c *Client) SetOwnPicture(ctx context.Context, data []byte) error {
	_, s, err := c.sess()
	if err != nil {
		return err
	}
	if len(data) > media.MaxImageBytes {
		return media.ErrImageTooLarge
	}
	if t := media.Detect(data); t != "image/png" && t != "image/jpeg" {
		return ErrNoPicture
	}
	if err := s.PublishAvatar(ctx, data); err != nil {
		if errors.Is(err, sync.ErrNotConnected) {
			return ErrPictureOffline
		}
		return err
	}
	c.faces.forget()
	return nil
}

// RemoveOwnPicture takes this account's picture down: colleagues see its
// initials again. Needs a connection.
func (c *Client) RemoveOwnPicture(ctx context.Context) error {
	_, s, err := c.sess()
	if err != nil {
		return err
	}
	if err := s.TakeDownAvatar(ctx); err != nil {
		if errors.Is(err, sync.ErrNotConnected) {
			return ErrPictureOffline
		}
		return err
	}
	c.faces.forget()
	return nil
}

// OwnAvatar is this account's face as colleagues see it: the picture it
// published, else the initials of the name its card gives (of the
// address without one).
func (c *Client) OwnAvatar() Avatar {
	acct := c.Account()
	st, err := c.unlocked()
	if err != nil {
		return AvatarOf("", acct)
	}
	return c.avatarOf(st, sync.Profiles(st)[acct].Name, acct)
}
