package xmpp

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// XEP-0454 OMEMO Media Sharing, the part every modern client agrees on: the
// file is encrypted with AES-256-GCM before upload, and the message carries
// aesgcm://host/path#<hex IV><hex key>. The fragment never reaches a server
// (browsers and HTTP clients strip it), so only the recipients can decrypt.

const (
	AESGCMScheme = "aesgcm"
	// AESGCMKeySize is AES-256. AESGCMIVSize is the 12-byte IV we create;
	// a 16-byte IV (older Conversations) is accepted on download.
	AESGCMKeySize    = 32
	AESGCMIVSize     = 12
	aesgcmLegacyIV   = 16
	aesgcmTagSize    = 16
	aesgcmFragment   = 2 * (AESGCMIVSize + AESGCMKeySize)
	aesgcmFragmentV0 = 2 * (aesgcmLegacyIV + AESGCMKeySize)
)

// ErrAESGCMURL is wrapped by every parse failure of an aesgcm:// URL.
var ErrAESGCMURL = errors.New("xmpp: bad aesgcm:// URL")

// AESGCMURL is a parsed aesgcm:// link.
type AESGCMURL struct {
	// HTTPURL is where to GET the ciphertext: https://, or http:// when the
	// host is loopback (the same exception as ws://, for tests and the demo).
	HTTPURL string
	IV      []byte // 12 bytes (16 for legacy links)
	Key     []byte // 32 bytes
}

// String is the aesgcm:// form: the HTTP URL's scheme replaced, key material
// in the fragment (IV then key, lower-case hex).
func (a AESGCMURL) String() string {
	u, err := url.Parse(a.HTTPURL)
	if err != nil {
		return ""
	}
	u.Scheme = AESGCMScheme
	u.Fragment, u.RawFragment = "", ""
	return u.String() + "#" + hex.EncodeToString(a.IV) + hex.EncodeToString(a.Key)
}

// NewAESGCMURL builds the link for a file uploaded to getURL (an http(s) URL
// from an XEP-0363 slot) encrypted with key and iv.
func NewAESGCMURL(getURL string, iv, key []byte) (AESGCMURL, error) {
	if len(key) != AESGCMKeySize || len(iv) != AESGCMIVSize {
		return AESGCMURL{}, fmt.Errorf("%w: want a %d-byte key and %d-byte IV", ErrAESGCMURL, AESGCMKeySize, AESGCMIVSize)
	}
	if err := CheckHTTPURL(getURL); err != nil {
		return AESGCMURL{}, err
	}
	u, _ := url.Parse(getURL)
	if u.Fragment != "" || u.User != nil {
		return AESGCMURL{}, fmt.Errorf("%w: the GET URL must have no fragment or user info", ErrAESGCMURL)
	}
	return AESGCMURL{HTTPURL: getURL, IV: append([]byte(nil), iv...), Key: append([]byte(nil), key...)}, nil
}

// ParseAESGCMURL reads an aesgcm:// link strictly: the scheme, a host, no user
// info, and a fragment of exactly 88 hex digits (12-byte IV + 32-byte key) or
// 96 (16-byte IV + key). Anything else is an error wrapping ErrAESGCMURL
// that says what was wrong (never the key itself).
func ParseAESGCMURL(raw string) (AESGCMURL, error) {
	bad := func(why string) (AESGCMURL, error) { return AESGCMURL{}, fmt.Errorf("%w: %s", ErrAESGCMURL, why) }
	if len(raw) > 4096 {
		return bad("longer than 4096 bytes")
	}
	if strings.ContainsAny(raw, " \t\r\n\x00") {
		return bad("contains white space or control characters")
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.EqualFold(scheme, AESGCMScheme) {
		return bad("scheme is not aesgcm://")
	}
	rest, frag, ok := strings.Cut(rest, "#")
	if !ok {
		return bad("no #key fragment")
	}
	if len(frag) != aesgcmFragment && len(frag) != aesgcmFragmentV0 {
		return bad(fmt.Sprintf("key fragment has %d characters, want %d (or %d)", len(frag), aesgcmFragment, aesgcmFragmentV0))
	}
	material, err := hex.DecodeString(frag)
	if err != nil {
		return bad("key fragment is not hex")
	}
	ivLen := len(material) - AESGCMKeySize
	u, err := url.Parse("https://" + rest)
	if err != nil {
		return bad("unparsable host or path")
	}
	if u.User != nil {
		return bad("user info is not allowed")
	}
	if u.Host == "" || u.Hostname() == "" {
		return bad("no host")
	}
	if isLoopbackHost(u.Hostname()) {
		u.Scheme = "http"
	}
	return AESGCMURL{HTTPURL: u.String(), IV: material[:ivLen], Key: material[ivLen:]}, nil
}

// LooksLikeAESGCM reports whether s is meant as an aesgcm:// link (it may
// still fail to parse); used to recognise attachment messages.
func LooksLikeAESGCM(s string) bool {
	return len(s) > len(AESGCMScheme)+3 && strings.EqualFold(s[:len(AESGCMScheme)+3], AESGCMScheme+"://")
}
