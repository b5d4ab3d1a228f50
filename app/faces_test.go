package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/sync/xmpp"
)

// solidPNG is a w×h picture of one colour.
func solidPNG(t testing.TB, w, h int, c color.NRGBA) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pictureIs: av carries a picture whose middle pixel is about c.
func pictureIs(av Avatar, c color.NRGBA) bool {
	if av.Picture == nil {
		return false
	}
	b := av.Picture.Bounds()
	r, g, bl, _ := av.Picture.At(b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2).RGBA()
	near := func(a uint32, want uint8) bool { d := int(a>>8) - int(want); return d > -8 && d < 8 }
	return near(r, c.R) && near(g, c.G) && near(bl, c.B)
}

var (
	red  = color.NRGBA{R: 200, G: 30, B: 30, A: 255}
	blue = color.NRGBA{R: 20, G: 60, B: 200, A: 255}
)

// TestPicturesShowForColleagues, through a real Prosody (PEP, XEP-0084):
// the picture bob publishes (a 300×300 PNG, shrunk to 96 px) shows for
// alice on his inbox row, his directory row, as his Person and on the alert
// card, and sealed in her store; the picture he publishes next replaces it
// without a new sign-in (PEP notification), and one he takes down goes; a
// picture whose data does not hash to the id its metadata names is refused
// and he shows by his initials again.
func TestPicturesShowForColleagues(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob")
	alice := signIn(t, srv, "alice", Config{})
	bob := signIn(t, srv, "bob", Config{})
	if _, err := bob.c.Send(alice.jid, "hello"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's chat", 30*time.Second, func() bool { _, ok := alice.row(bob.jid); return ok })
	if r, _ := alice.row(bob.jid); r.Avatar.Picture != nil || r.Avatar.Initials == "" {
		t.Fatalf("before any picture: %+v", r.Avatar)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := bob.c.SetOwnPicture(ctx, solidPNG(t, 300, 300, red)); err != nil {
		t.Fatal(err)
	}
	if !pictureIs(bob.c.Person(bob.jid).Avatar, red) {
		t.Fatal("bob does not see his own picture")
	}
	_, s := alice.c.openSession()
	if err := s.RefreshProfiles(ctx, bob.jid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's picture on alice's inbox row", 30*time.Second, func() bool { r, _ := alice.row(bob.jid); return pictureIs(r.Avatar, red) })
	r, _ := alice.row(bob.jid)
	if sz := r.Avatar.Picture.Bounds().Size(); sz.X != 96 || sz.Y != 96 {
		t.Errorf("picture is %v, want the 96×96 bob published", sz)
	}
	if !pictureIs(alice.c.Person(bob.jid).Avatar, red) {
		t.Error("alice's Person(bob) has no picture")
	}
	dir, err := alice.c.Directory("")
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range dir {
		if ct.JID == bob.jid && !pictureIs(ct.Avatar, red) {
			t.Error("bob's directory row has no picture")
		}
	}
	st, _ := alice.c.openSession()
	if a, err := st.Avatar(bob.jid); err != nil || a.ID != xmpp.AvatarID(a.Data) || a.Type != "image/png" {
		t.Fatalf("alice's store: %v %v", a.ID, err)
	}
	if _, err := bob.c.SendUrgent(alice.jid, "K+ 6.8 bed 4", 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's alert", 30*time.Second, func() bool { _, ok := alertOn(alice, bob.jid); return ok })
	if a, _ := alertOn(alice, bob.jid); !pictureIs(a.FromAvatar, red) {
		t.Error("the alert card has no picture of bob")
	}

	// An update replaces it, as a notification.
	if err := bob.c.SetOwnPicture(ctx, solidPNG(t, 64, 64, blue)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's new picture", 30*time.Second, func() bool { r, _ := alice.row(bob.jid); return pictureIs(r.Avatar, blue) })

	// Taken down, he shows by his initials; then he publishes one again.
	if err := bob.c.RemoveOwnPicture(ctx); err != nil {
		t.Fatal(err)
	}
	if bob.c.OwnAvatar().Picture != nil {
		t.Error("bob still sees his own picture")
	}
	waitFor(t, "bob's picture taken down", 30*time.Second, func() bool { r, _ := alice.row(bob.jid); return r.Avatar.Picture == nil })
	if err := bob.c.SetOwnPicture(ctx, solidPNG(t, 64, 64, blue)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob's picture again", 30*time.Second, func() bool { r, _ := alice.row(bob.jid); return pictureIs(r.Avatar, blue) })

	// A data item that does not hold what the metadata announced: another
	// good picture of the same size in bytes, so only the id tells.
	genuine := solidPNG(t, 48, 48, red)
	forged := solidPNG(t, 48, 48, color.NRGBA{R: 30, G: 160, B: 40, A: 255})
	if len(forged) != len(genuine) {
		t.Fatalf("test pictures differ in size: %d, %d", len(forged), len(genuine))
	}
	id := xmpp.AvatarID(genuine)
	raw := dialRaw(t, srv, "bob")
	if err := raw.Publish(ctx, bob.jid, xmpp.NSAvatarData, id, xmpp.NewElement(xmpp.NSAvatarData, "data").SetText(base64.StdEncoding.EncodeToString(forged))); err != nil {
		t.Fatal(err)
	}
	meta := xmpp.AvatarMetadata{Info: &xmpp.AvatarInfo{ID: id, Bytes: len(genuine), Type: "image/png", Width: 48, Height: 48}}
	if err := raw.Publish(ctx, bob.jid, xmpp.NSAvatarMetadata, id, meta.Element()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the forged picture refused", 30*time.Second, func() bool { r, _ := alice.row(bob.jid); return r.Avatar.Picture == nil })
	if r, _ := alice.row(bob.jid); r.Avatar.Initials == "" || r.Avatar.Initials != AvatarOf(r.Title, bob.jid).Initials {
		t.Errorf("bob shows as %q, want his initials", r.Avatar.Initials)
	}
	if _, err := st.Avatar(bob.jid); err == nil {
		t.Error("alice's store still keeps a picture of bob")
	}
	// And a fresh read refuses it the same way.
	if err := s.RefreshProfiles(ctx, bob.jid); err != nil {
		t.Fatal(err)
	}
	if r, _ := alice.row(bob.jid); r.Avatar.Picture != nil {
		t.Error("a fresh read kept the forged picture")
	}
}
