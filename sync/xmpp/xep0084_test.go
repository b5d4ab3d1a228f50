package xmpp

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestAvatarMetadataFixtures(t *testing.T) {
	fixtures(t, "avatarmeta", DecodeAvatarMetadata, AvatarMetadata.Element, map[string]string{
		"fail_id_short":       "<info id>: not a SHA-1 in hex",
		"fail_id_upper":       "<info id>: not a SHA-1 in hex",
		"fail_bytes_missing":  `<info bytes>: "" is outside 1..65536`,
		"fail_bytes_huge":     `<info bytes>: "67108864" is outside 1..65536`,
		"fail_bytes_negative": `<info bytes>: "-1" is outside 1..65536`,
		"fail_type_svg":       `<info type>: "image/svg+xml" is not a picture type Rounds reads`,
		"fail_width_huge":     `<info width>: "60000" is outside 1..1024`,
		"fail_url_only":       "no <info/> stored on the data node",
		"fail_wrong_root":     "not a urn:xmpp:avatar:metadata <metadata/> element",
		"fail_truncated":      "avatar: bad metadata",
	})
	m, err := DecodeAvatarMetadata(mustRead(t, "testdata/avatarmeta/good_png_after_others.xml"))
	if err != nil || m.Info == nil || m.Info.Type != "image/png" || m.Info.Bytes != 2048 {
		t.Errorf("good_png_after_others: the PNG on the data node is the one, got %+v %v", m.Info, err)
	}
	if m, err := DecodeAvatarMetadata(mustRead(t, "testdata/avatarmeta/good_taken_down.xml")); err != nil || m.Info != nil {
		t.Errorf("good_taken_down: no picture, got %+v %v", m.Info, err)
	}
}

// TestAvatarDataChecked: the data is accepted only with the size and the
// SHA-1 the metadata announced.
func TestAvatarDataChecked(t *testing.T) {
	pic := []byte("\x89PNG\r\n\x1a\n not really, but bytes")
	in := AvatarInfo{ID: AvatarID(pic), Bytes: len(pic), Type: "image/png"}
	data := func(text string) *Element { return NewElement(NSAvatarData, "data").SetText(text) }
	if got, err := ParseAvatarData(data(base64.StdEncoding.EncodeToString(pic)), in); err != nil || string(got) != string(pic) {
		t.Fatalf("good data refused: %v", err)
	}
	wrapped := base64.StdEncoding.EncodeToString(pic)
	wrapped = wrapped[:10] + "\n  " + wrapped[10:]
	if _, err := ParseAvatarData(data(wrapped), in); err != nil {
		t.Fatalf("line-wrapped base64 refused: %v", err)
	}
	other := append([]byte(nil), pic...)
	other[len(other)-1] ^= 1
	for name, c := range map[string]struct {
		el   *Element
		want error
		text string
	}{
		"other bytes, same size": {data(base64.StdEncoding.EncodeToString(other)), ErrAvatarMismatch, "does not match its id"},
		"short":                  {data(base64.StdEncoding.EncodeToString(pic[:5])), ErrAvatar, "5 bytes, the metadata says"},
		"not base64":             {data("!!!!"), ErrAvatar, "not base64"},
		"huge":                   {data(strings.Repeat("A", 100<<10)), ErrAvatar, "more than 65536 bytes"},
		"wrong element":          {NewElement(NSAvatarMetadata, "data"), ErrAvatar, "not a urn:xmpp:avatar:data"},
		"nil":                    {nil, ErrAvatar, "not a urn:xmpp:avatar:data"},
	} {
		_, err := ParseAvatarData(c.el, in)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v, want %v containing %q", name, err, c.want, c.text)
		}
	}
}

func TestAvatarEvent(t *testing.T) {
	ev := func(from string) *Element {
		return mustDecode(t, `<message xmlns='jabber:client' from='`+from+`'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'><item id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f'><metadata xmlns='urn:xmpp:avatar:metadata'><info id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f' bytes='10' type='image/png'/></metadata></item></items></event></message>`)
	}
	bare, m, err := ParseAvatarEvent(ev("bob@h.example"), "alice@h.example")
	if err != nil || bare != "bob@h.example" || m.Info == nil || m.Info.Bytes != 10 {
		t.Fatalf("event: %q %+v %v", bare, m, err)
	}
	if _, _, err := ParseAvatarEvent(ev("bob@h.example/phone"), "alice@h.example"); !errors.Is(err, ErrSpoofed) {
		t.Fatalf("event from a full JID: %v", err)
	}
	if _, _, err := ParseAvatarEvent(mustDecode(t, `<message xmlns='jabber:client'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:vcard4'/></event></message>`), "a@h"); !errors.Is(err, ErrNotAvatarEvent) {
		t.Fatalf("other node: %v", err)
	}
}

// FuzzAvatarMetadata: any input is parsed or refused (wrapping ErrAvatar),
// never panics; what parses is within the limits and survives a round trip.
func FuzzAvatarMetadata(f *testing.F) {
	addFixtureSeeds(f, "avatarmeta")
	f.Fuzz(func(t *testing.T, doc []byte) {
		m, err := DecodeAvatarMetadata(doc)
		if err != nil {
			if !errors.Is(err, ErrAvatar) {
				t.Fatalf("error does not wrap ErrAvatar: %v", err)
			}
			return
		}
		if in := m.Info; in != nil && (!isSHA1Hex(in.ID) || in.Bytes < 1 || in.Bytes > MaxAvatarBytes || !AvatarTypes[in.Type] || in.Width > MaxAvatarSide || in.Height > MaxAvatarSide) {
			t.Fatalf("accepted %+v", in)
		}
		again, err := DecodeAvatarMetadata([]byte(m.Element().String()))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip: %+v → %+v (%v)", m, again, err)
		}
	})
}

// FuzzAvatarData: any data element is refused or returns bytes that hash
// to the id and have the announced size.
func FuzzAvatarData(f *testing.F) {
	pic := []byte("picture bytes")
	f.Add(base64.StdEncoding.EncodeToString(pic), AvatarID(pic), len(pic))
	f.Add("!!", AvatarID(pic), 1)
	f.Add("", AvatarID(nil), 0)
	f.Fuzz(func(t *testing.T, text, id string, n int) {
		in := AvatarInfo{ID: id, Bytes: n, Type: "image/png"}
		data, err := ParseAvatarData(NewElement(NSAvatarData, "data").SetText(text), in)
		if err != nil {
			if !errors.Is(err, ErrAvatar) {
				t.Fatalf("error does not wrap ErrAvatar: %v", err)
			}
			return
		}
		if AvatarID(data) != id || len(data) != n || len(data) > MaxAvatarBytes {
			t.Fatalf("accepted %d bytes for id %q size %d", len(data), id, n)
		}
	})
}
