package xmpp

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/internal/testserver"
)

func TestVCardFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "vcard", "*.xml"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, p := range files {
		_, err := DecodeVCard(mustRead(t, p))
		if strings.HasPrefix(filepath.Base(p), "fail_") != (err != nil) {
			t.Errorf("%s: err %v", p, err)
		}
	}
	v, err := DecodeVCard(mustRead(t, filepath.Join("testdata", "vcard", "good_full.xml")))
	if err != nil || v != (VCard{Name: "Dr Ama Osei", Role: "Cardiology registrar", Unit: "Ward 7", Phone: "+44-20-7946-0001"}) {
		t.Fatalf("good_full: %+v %v", v, err)
	}
}

// TestVCardTextCannotDisguise: a name is the sender's claim; control and
// format characters (a right-to-left override that would make
// "Dr Osei\u202e" read otherwise, zero-width joiners) become spaces, runs of
// spaces one, and a field is cut at maxVCardField runes.
func TestVCardTextCannotDisguise(t *testing.T) {
	v := VCard{Name: "Dr\u202e  Osei\u200b\n", Role: strings.Repeat("x", 500)}
	got, err := ParseVCard(v.Element())
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Dr Osei" || len([]rune(got.Role)) != maxVCardField {
		t.Fatalf("%q, role %d runes", got.Name, len([]rune(got.Role)))
	}
}

// FuzzVCard: any document is parsed or refused, never panics; what parses
// survives encode → decode unchanged.
func FuzzVCard(f *testing.F) {
	addFixtureSeeds(f, "vcard")
	f.Fuzz(func(t *testing.T, doc []byte) {
		v, err := DecodeVCard(doc)
		if err != nil {
			return
		}
		again, err := ParseVCard(v.Element())
		if err != nil || again != v {
			t.Fatalf("round trip: %+v → %+v (%v)", v, again, err)
		}
	})
}

// TestConsistentColorVectors: the XEP-0392 1.0 examples (hue angle, and the
// RGB at HSLuv saturation 100, lightness 50).
func TestConsistentColorVectors(t *testing.T) {
	for _, c := range []struct {
		in      string
		angle   float64
		r, g, b float64
	}{
		{"Romeo", 327.255249, 0.865, 0.000, 0.686},
		{"juliet@capulet.lit", 209.410400, 0.000, 0.515, 0.573},
		{"council", 359.994507, 0.918, 0.000, 0.394},
	} {
		if a := ColorAngle(c.in); a < c.angle-1e-5 || a > c.angle+1e-5 {
			t.Errorf("%s: angle %f, want %f", c.in, a, c.angle)
		}
		r, g, b := hsluvToRGB(ColorAngle(c.in), 100, 50)
		for i, p := range [][2]float64{{r, c.r}, {g, c.g}, {b, c.b}} {
			if p[0] < p[1]-0.001 || p[0] > p[1]+0.001 {
				t.Errorf("%s: channel %d %.4f, want %.3f", c.in, i, p[0], p[1])
			}
		}
	}
	if ConsistentColor("alice@rounds.test") == ConsistentColor("bob@rounds.test") {
		t.Fatal("two addresses, one colour")
	}
}

// TestVCardPublishAndFetch: alice publishes her card on her PEP node; bob,
// not her contact, reads it; carol, who published none, reads as absent.
func TestVCardPublishAndFetch(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{}, "alice", "bob", "carol")
	alice := dialT(t, baseConfig(srv, "alice"))
	bob := dialT(t, baseConfig(srv, "bob"))
	card := VCard{Name: "Dr Ama Osei", Role: "Cardiology registrar", Unit: "Ward 7", Phone: "+44 20 7946 0001"}
	if err := alice.PublishVCard(ctxT(t), card); err != nil {
		t.Fatal(err)
	}
	var got VCard
	var ok bool
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		if got, ok, err = bob.FetchVCard(ctxT(t), srv.JID("alice")); err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !ok || got != card {
		t.Fatalf("bob read %+v %v, alice published %+v", got, ok, card)
	}
	if _, ok, err := bob.FetchVCard(ctxT(t), srv.JID("carol")); err != nil || ok {
		t.Fatalf("carol's (none): ok %v err %v", ok, err)
	}
}

// TestVCardEventFixtures: a card notification is read from the account it
// comes from (our own when from is empty); one from a full JID (a peer's
// client forging its account's event), a retraction, an empty card,
// another item or node, is refused.
func TestVCardEventFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "vcardevent", "*.xml"))
	if len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, p := range files {
		_, _, err := decodeVCardEvent(t, mustRead(t, p))
		if strings.HasPrefix(filepath.Base(p), "fail_") != (err != nil) {
			t.Errorf("%s: err %v", p, err)
		}
	}
	want := VCard{Name: "Dr Bob Mensah", Role: "Charge nurse"}
	if bare, v, err := decodeVCardEvent(t, mustRead(t, filepath.Join("testdata", "vcardevent", "good_contact.xml"))); err != nil || bare != "bob@rounds.test" || v != want {
		t.Errorf("good_contact: %q %+v %v", bare, v, err)
	}
	if bare, _, err := decodeVCardEvent(t, mustRead(t, filepath.Join("testdata", "vcardevent", "good_own_account.xml"))); err != nil || bare != "alice@rounds.test" {
		t.Errorf("good_own_account: %q %v", bare, err)
	}
	if _, _, err := decodeVCardEvent(t, mustRead(t, filepath.Join("testdata", "vcardevent", "fail_full_jid.xml"))); !errors.Is(err, ErrSpoofed) {
		t.Errorf("fail_full_jid: %v, want ErrSpoofed", err)
	}
}

func decodeVCardEvent(t testing.TB, doc []byte) (string, VCard, error) {
	el, err := DecodeElement(doc, Limits{})
	if err != nil {
		return "", VCard{}, err
	}
	return ParseVCardEvent(el, "alice@rounds.test/phone")
}

// FuzzVCardEvent: any stanza is read or refused, never panics; what is
// read names a bare JID and a card that survives encode → decode.
func FuzzVCardEvent(f *testing.F) {
	addFixtureSeeds(f, "vcardevent")
	f.Fuzz(func(t *testing.T, doc []byte) {
		bare, v, err := decodeVCardEvent(t, doc)
		if err != nil {
			return
		}
		if bare == "" || hasResource(bare) {
			t.Fatalf("read from %q", bare)
		}
		again, err := ParseVCard(v.Element())
		if err != nil || again != v {
			t.Fatalf("round trip: %+v → %+v (%v)", v, again, err)
		}
	})
}
