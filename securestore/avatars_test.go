package securestore

import (
	"bytes"
	"os"
	"reflect"
	"testing"
	"time"
)

// TestAvatarKeptSealed: a picture is kept, replaced and deleted per
// person, survives a close and reopen, and neither its bytes nor its
// owner's address are in the file in clear.
func TestAvatarKeptSealed(t *testing.T) {
	s, path, opts := newTestStore(t)
	pic := bytes.Repeat([]byte("PNGPIXELS-dr.osei-"), 200)
	a := Avatar{ID: "111f4b3c50d7b0df729d299bc6f8e9ef9066971f", Type: "image/png", Data: pic, Fetched: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if _, err := s.Avatar("dr.osei@h.example"); err != ErrNotFound {
		t.Fatalf("no picture yet: %v", err)
	}
	if err := s.PutAvatar("dr.osei@h.example", a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Avatar("dr.osei@h.example"); err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("got %+v %v", got.ID, err)
	}
	if _, err := s.Avatar("other@h.example"); err != ErrNotFound {
		t.Fatalf("another person's picture: %v", err)
	}
	newer := Avatar{ID: "222f4b3c50d7b0df729d299bc6f8e9ef9066971f", Type: "image/jpeg", Data: []byte("jpeg"), Fetched: a.Fetched.Add(time.Hour)}
	if err := s.PutAvatar("dr.osei@h.example", newer); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAvatar("big@h.example", Avatar{Data: make([]byte, maxAvatarRecord+1)}); err != ErrInvalid {
		t.Fatalf("oversized picture: %v", err)
	}
	if err := s.PutAvatar("gone@h.example", a); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAvatar("gone@h.example"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAvatar("kept@h.example", a); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("PNGPIXELS")) || bytes.Contains(raw, []byte("dr.osei")) || bytes.Contains(raw, []byte("image/png")) {
		t.Fatal("a picture, its type or its owner is in the file in clear")
	}
	s2, err := Open(path, testPIN, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, err := s2.Avatar("dr.osei@h.example"); err != nil || !reflect.DeepEqual(got, newer) {
		t.Fatalf("after reopen: %+v %v (want the newer picture)", got.ID, err)
	}
	if _, err := s2.Avatar("gone@h.example"); err != ErrNotFound {
		t.Fatalf("deleted picture: %v", err)
	}
	if got, err := s2.Avatar("kept@h.example"); err != nil || !bytes.Equal(got.Data, pic) {
		t.Fatalf("kept picture: %v", err)
	}
}
