package xmpp

import (
	"errors"
	"strings"
	"testing"
)

func decodeT(t *testing.T, s string) *Element {
	t.Helper()
	el, err := DecodeElement([]byte(s), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func TestParseUploadSlot(t *testing.T) {
	slot := decodeT(t, `<slot xmlns='urn:xmpp:http:upload:0'>
		<put url='https://upload.hospital.example/put/abc/x.jpg'>
			<header name='Authorization'>Bearer t0k3n</header>
			<header name='cookie'>s=1</header>
			<header name='Host'>evil.example</header>
			<header name='Content-Length'>1</header>
		</put>
		<get url='https://upload.hospital.example/get/abc/x.jpg'/>
	</slot>`)
	s, err := ParseUploadSlot(slot)
	if err != nil {
		t.Fatal(err)
	}
	if s.PutHeaders.Get("Authorization") != "Bearer t0k3n" || s.PutHeaders.Get("Cookie") != "s=1" || len(s.PutHeaders) != 2 {
		t.Fatalf("headers %v: only Authorization, Cookie, Expires may pass", s.PutHeaders)
	}
	for name, bad := range map[string]string{
		"plain http remote": `<slot xmlns='urn:xmpp:http:upload:0'><put url='http://upload.example/p'/><get url='https://upload.example/g'/></slot>`,
		"no get":            `<slot xmlns='urn:xmpp:http:upload:0'><put url='https://upload.example/p'/></slot>`,
		"ftp":               `<slot xmlns='urn:xmpp:http:upload:0'><put url='ftp://upload.example/p'/><get url='https://upload.example/g'/></slot>`,
		"header injection":  "<slot xmlns='urn:xmpp:http:upload:0'><put url='https://u.example/p'><header name='Cookie'>a&#10;Host: x</header></put><get url='https://u.example/g'/></slot>",
	} {
		if _, err := ParseUploadSlot(decodeT(t, bad)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseUploadSlot(nil); err == nil {
		t.Error("nil slot accepted")
	}
	// Loopback may be plain http (tests, demo).
	if _, err := ParseUploadSlot(decodeT(t, `<slot xmlns='urn:xmpp:http:upload:0'><put url='http://127.0.0.1:5280/p'/><get url='http://127.0.0.1:5280/g'/></slot>`)); err != nil {
		t.Fatal(err)
	}
}

func TestUploadServiceFromDisco(t *testing.T) {
	q := decodeT(t, `<query xmlns='http://jabber.org/protocol/disco#info'>
		<identity category='store' type='file' name='HTTP File Upload'/>
		<feature var='urn:xmpp:http:upload:0'/>
		<x xmlns='jabber:x:data' type='result'>
			<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:http:upload:0</value></field>
			<field var='max-file-size'><value>5242880</value></field>
		</x>
	</query>`)
	svc, ok := uploadServiceFrom("upload.example", q)
	if !ok || svc.MaxFileSize != 5242880 || svc.JID != "upload.example" {
		t.Fatalf("%+v %v", svc, ok)
	}
	if _, ok := uploadServiceFrom("muc.example", decodeT(t, `<query xmlns='http://jabber.org/protocol/disco#info'><feature var='http://jabber.org/protocol/muc'/></query>`)); ok {
		t.Fatal("a MUC service taken for upload")
	}
	iq := decodeT(t, `<iq xmlns='jabber:client' type='error' id='1'><error type='modify'>
		<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
		<file-too-large xmlns='urn:xmpp:http:upload:0'><max-file-size>1000</max-file-size></file-too-large>
	</error></iq>`)
	tl := tooLargeFrom(iq, 5000)
	if tl == nil || tl.Max != 1000 || tl.Size != 5000 || !strings.Contains(tl.Error(), "1000") {
		t.Fatalf("%+v", tl)
	}
	var target *FileTooLargeError
	if !errors.As(error(tl), &target) {
		t.Fatal("not a FileTooLargeError")
	}
}

// TestUploadSlotErrorsNeverQuoteTheURL: a slot the client refuses is named
// by its host at most. Its path is the upload's credential on ejabberd (the
// PUT URL is signed there, the GET URL is the file), and errors reach logs
// and `rounds admin check` output.
func TestUploadSlotErrorsNeverQuoteTheURL(t *testing.T) {
	const secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	for name, u := range map[string]string{
		"plain http remote": "http://upload.example/upload/" + secret + "/x.jpg",
		"ftp":               "ftp://upload.example/upload/" + secret + "/x.jpg",
		"no host":           "https:///upload/" + secret + "/x.jpg",
		"bad escape":        "https://upload.example/upload/" + secret + "/%zz.jpg",
		"bad host":          "https://upload example/upload/" + secret,
	} {
		slot := decodeT(t, `<slot xmlns='urn:xmpp:http:upload:0'><put url='`+u+`'/><get url='`+u+`'/></slot>`)
		_, err := ParseUploadSlot(slot)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: the error quotes the slot URL: %v", name, err)
		}
		if _, err := NewAESGCMURL(u, make([]byte, AESGCMIVSize), make([]byte, AESGCMKeySize)); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: NewAESGCMURL: %v", name, err)
		}
	}
}
