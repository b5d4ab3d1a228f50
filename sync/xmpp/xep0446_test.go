package xmpp

import (
	"crypto/sha256"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestFileMetadataFixtures(t *testing.T) {
	fixtures(t, "filemeta", DecodeFileMetadata, FileMetadata.Element, map[string]string{
		"fail_name_slash":      "<name>: contains a path separator",
		"fail_name_backslash":  "<name>: contains a path separator",
		"fail_name_dotdot":     "<name>: is a directory reference",
		"fail_name_control":    "<name>: contains a control character",
		"fail_name_bidi":       "<name>: contains a bidirectional control character",
		"fail_name_long":       "<name>: 256 bytes, more than 255",
		"fail_name_empty":      "<name>: empty",
		"fail_name_twice":      "<name>: given twice",
		"fail_size_negative":   "<size>: not a whole number",
		"fail_size_huge":       "<size>: outside 0..1099511627776",
		"fail_size_text":       "<size>: not a whole number",
		"fail_size_overflow":   "<size>: not a whole number",
		"fail_media_type_bad":  "<media-type>: not a type/subtype",
		"fail_hash_short":      "<hash algo='sha-256'>: 3 bytes, want 32",
		"fail_hash_not_base64": "<hash algo='sha-256'>: not base64",
		"fail_width_huge":      "<width>: outside 0..65536",
		"fail_wrong_root":      "not a urn:xmpp:file:metadata:0 <file/> element",
		"fail_truncated":       "bad file metadata",
	})
	f, err := DecodeFileMetadata(mustRead(t, "testdata/filemeta/good_full.xml"))
	sum := sha256.Sum256([]byte("hello"))
	want := FileMetadata{MediaType: "application/pdf", Name: "Discharge summary – Bed 4.pdf", Size: 48213, SHA256: sum[:]}
	if err != nil || !reflect.DeepEqual(f, want) {
		t.Errorf("good_full: %+v %v", f, err)
	}
	f, _ = DecodeFileMetadata(mustRead(t, "testdata/filemeta/good_photo.xml"))
	if f.Width != 4032 || f.Height != 3024 || f.SHA256 != nil || f.Size != 1024 {
		t.Errorf("good_photo (sha3 hash ignored, dimensions kept): %+v", f)
	}
	if f, _ := DecodeFileMetadata(mustRead(t, "testdata/filemeta/good_empty.xml")); f.Size != -1 || f.Name != "" {
		t.Errorf("good_empty: %+v", f)
	}
	if f, _ := DecodeFileMetadata(mustRead(t, "testdata/filemeta/good_empty_file.xml")); f.Size != 0 {
		t.Errorf("good_empty_file: size %d", f.Size)
	}
}

// Every refusal wraps ErrFileMetadata and never repeats the file's name
// (errors reach logs).
func TestFileMetadataErrorsHideName(t *testing.T) {
	for _, body := range []string{"<name>Jane Doe HIV/result.pdf</name>", "<name>Jane Doe\tresult.pdf</name>", "<name>Jane Doe</name><name>x</name>"} {
		_, err := DecodeFileMetadata([]byte("<file xmlns='urn:xmpp:file:metadata:0'>" + body + "</file>"))
		if !errors.Is(err, ErrFileMetadata) || strings.Contains(err.Error(), "Jane") {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestFindFileMetadata(t *testing.T) {
	direct := mustDecode(t, `<message xmlns='jabber:client'><body>x</body><file xmlns='urn:xmpp:file:metadata:0'><name>a.pdf</name></file></message>`)
	if el, err := FindFileMetadata(direct); err != nil || el == nil {
		t.Fatalf("direct: %v %v", el, err)
	}
	sfs := mustDecode(t, `<message xmlns='jabber:client'><file-sharing xmlns='urn:xmpp:sfs:0'><file xmlns='urn:xmpp:file:metadata:0'><name>b.pdf</name></file></file-sharing></message>`)
	if el, err := FindFileMetadata(sfs); err != nil || el == nil {
		t.Fatalf("sfs: %v %v", el, err)
	}
	two := mustDecode(t, `<message xmlns='jabber:client'><file xmlns='urn:xmpp:file:metadata:0'/><file xmlns='urn:xmpp:file:metadata:0'/></message>`)
	if _, err := FindFileMetadata(two); !errors.Is(err, ErrFileMetadata) {
		t.Fatalf("two: %v", err)
	}
	if el, err := FindFileMetadata(mustDecode(t, `<message xmlns='jabber:client'/>`)); el != nil || err != nil {
		t.Fatalf("none: %v %v", el, err)
	}
}

func FuzzDecodeFileMetadata(f *testing.F) {
	f.Add([]byte(`<file xmlns='urn:xmpp:file:metadata:0'><name>a.pdf</name><size>12</size></file>`))
	f.Add([]byte(`<file xmlns='urn:xmpp:file:metadata:0'><hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=</hash></file>`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := DecodeFileMetadata(raw)
		if err != nil {
			if !errors.Is(err, ErrFileMetadata) {
				t.Fatalf("error does not wrap ErrFileMetadata: %v", err)
			}
			return
		}
		if m.Name != "" && CheckFileName(m.Name) != nil || m.Size < -1 || m.Size > MaxFileMetadataSize || (m.SHA256 != nil && len(m.SHA256) != 32) {
			t.Fatalf("accepted %+v", m)
		}
		again, err := DecodeFileMetadata([]byte(m.Element().String()))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip: %+v → %+v (%v)", m, again, err)
		}
	})
}
