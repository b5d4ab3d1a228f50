package xmpp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"github.com/xdg-go/scram"
	"github.com/xdg-go/stringprep"
)

const (
	nsSASL      = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsSASLCB    = "urn:xmpp:sasl-cb:0" // XEP-0440: which channel-binding types the server supports
	cbTLSExport = "tls-exporter"
)

// mechanismPreference is the order we try SASL mechanisms in: channel-bound
// SCRAM first (it also proves there is no TLS man in the middle), then plain
// SCRAM by strength. PLAIN is considered only when no SCRAM is offered at all.
var mechanismPreference = []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"}

// SCRAMKeys is what the app may keep instead of the password
// (docs/ARCHITECTURE.md, "Security model"): the SCRAM ClientKey and ServerKey
// for one hash, salt and iteration count. They let us log in again and still
// verify the server's signature, without the password. They are
// password-equivalent for this server: keep them in the secure store.
type SCRAMKeys struct {
	Hash       string // "SHA-1" or "SHA-256"
	Salt       []byte
	Iterations int
	ClientKey  []byte
	ServerKey  []byte
}

func (k SCRAMKeys) matches(hashName string, salt []byte, iters int) bool {
	return k.Hash == hashName && k.Iterations == iters && bytes.Equal(k.Salt, salt)
}

// Credentials authenticate one account: the password, stored SCRAM keys, or
// both (the keys are tried first when they fit the server's salt and iteration
// count; the password covers a server that rehashed).
type Credentials struct {
	Password string
	Keys     []SCRAMKeys
}

type scramHash struct {
	name string
	gen  scram.HashGeneratorFcn
	new  func() hash.Hash
}

func hashFor(mech string) scramHash {
	if strings.HasPrefix(mech, "SCRAM-SHA-256") {
		return scramHash{"SHA-256", scram.SHA256, scram.SHA256}
	}
	return scramHash{"SHA-1", scram.SHA1, scram.SHA1}
}

// saslOffer is what the server's <stream:features/> say about authentication.
type saslOffer struct {
	mechanisms []string
	cbTypes    []string // XEP-0440; nil when the server does not say
}

func parseSASLOffer(features *Element) saslOffer {
	var o saslOffer
	if m := features.Child(nsSASL, "mechanisms"); m != nil {
		for _, c := range m.ChildrenNamed(nsSASL, "mechanism") {
			o.mechanisms = append(o.mechanisms, strings.TrimSpace(c.Text))
		}
	}
	if cb := features.Child(nsSASLCB, "sasl-channel-binding"); cb != nil {
		o.cbTypes = []string{}
		for _, c := range cb.ChildrenNamed(nsSASLCB, "channel-binding") {
			o.cbTypes = append(o.cbTypes, c.Attr("type"))
		}
	}
	return o
}

func (o saslOffer) has(m string) bool {
	for _, x := range o.mechanisms {
		if x == m {
			return true
		}
	}
	return false
}

// exporterBinding returns tls-exporter channel-binding data (RFC 9266) when the
// connection can provide it: TLS 1.3, or TLS 1.2 with extended master secret
// (crypto/tls refuses to export otherwise).
func exporterBinding(st *tls.ConnectionState) (scram.ChannelBinding, bool) {
	if st == nil {
		return scram.ChannelBinding{}, false
	}
	cb, err := scram.NewTLSExporterBinding(st)
	if err != nil || !cb.IsSupported() {
		return scram.ChannelBinding{}, false
	}
	return cb, true
}

// chooseMechanism picks the best mechanism we can use; see mechanismPreference.
func chooseMechanism(o saslOffer, tlsState *tls.ConnectionState, creds Credentials) (string, error) {
	_, canBind := exporterBinding(tlsState)
	serverCB := o.cbTypes == nil || contains(o.cbTypes, cbTLSExport)
	anySCRAM := false
	for _, m := range mechanismPreference {
		if !o.has(m) {
			continue
		}
		anySCRAM = true
		if strings.HasSuffix(m, "-PLUS") && !(canBind && serverCB) {
			continue
		}
		if creds.Password == "" && !hasKeysFor(creds.Keys, hashFor(m).name) {
			continue
		}
		return m, nil
	}
	if !anySCRAM && o.has("PLAIN") && creds.Password != "" {
		if tlsState == nil {
			return "", &InsecureTransportError{URL: "", Reason: "server offers only PLAIN and the connection is not TLS"}
		}
		return "PLAIN", nil
	}
	return "", fmt.Errorf("%w (offered: %s)", ErrNoMechanism, strings.Join(o.mechanisms, ", "))
}

func hasKeysFor(keys []SCRAMKeys, hashName string) bool {
	for _, k := range keys {
		if k.Hash == hashName {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// saslConversation is one mechanism run: step answers a server message, and
// verified reports (after success) that the server proved itself where the
// mechanism can.
type saslConversation interface {
	step(challenge []byte) ([]byte, error)
	verified() bool
}

type plainConversation struct{ user, pass string }

func (p *plainConversation) step([]byte) ([]byte, error) {
	return []byte("\x00" + p.user + "\x00" + p.pass), nil
}
func (p *plainConversation) verified() bool { return true }

// xdgConversation runs SCRAM from a password with github.com/xdg-go/scram and
// remembers the salt and iteration count so that the keys can be handed out.
type xdgConversation struct {
	conv  *scram.ClientConversation
	salt  []byte
	iters int
}

func (x *xdgConversation) step(ch []byte) ([]byte, error) {
	if x.salt == nil && len(ch) > 0 {
		if f, err := parseServerFirst(string(ch)); err == nil {
			x.salt, x.iters = f.salt, f.iters
		}
	}
	r, err := x.conv.Step(string(ch))
	return []byte(r), err
}
func (x *xdgConversation) verified() bool { return x.conv.Done() && x.conv.Valid() }

// keysConversation runs SCRAM (RFC 5802 §3) from stored ClientKey/ServerKey.
// xdg-go/scram v1.4.0 can only derive keys from a password, so this short part
// of the exchange is ours; scram_test.go checks it against xdg-go's server.
type keysConversation struct {
	h       scramHash
	user    string
	keys    []SCRAMKeys
	gs2     string
	cbData  []byte
	nonce   string
	c1bare  string
	state   int
	serverS []byte
	ok      bool
	used    *SCRAMKeys
}

func (k *keysConversation) step(ch []byte) ([]byte, error) {
	switch k.state {
	case 0:
		k.state = 1
		var nb [24]byte
		_, _ = rand.Read(nb[:])
		k.nonce = base64.StdEncoding.EncodeToString(nb[:])
		k.c1bare = "n=" + saslName(k.user) + ",r=" + k.nonce
		return []byte(k.gs2 + k.c1bare), nil
	case 1:
		k.state = 2
		f, err := parseServerFirst(string(ch))
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(f.nonce, k.nonce) || len(f.nonce) == len(k.nonce) {
			return nil, errors.New("server nonce does not extend ours")
		}
		var key *SCRAMKeys
		for i := range k.keys {
			if k.keys[i].matches(k.h.name, f.salt, f.iters) {
				key = &k.keys[i]
			}
		}
		if key == nil {
			return nil, errStaleKeys
		}
		k.used = key
		c2wop := "c=" + base64.StdEncoding.EncodeToString(append([]byte(k.gs2), k.cbData...)) + ",r=" + f.nonce
		authMsg := k.c1bare + "," + string(ch) + "," + c2wop
		stored := k.h.new()
		stored.Write(key.ClientKey)
		sig := hmacOf(k.h, stored.Sum(nil), authMsg)
		if len(sig) != len(key.ClientKey) {
			return nil, errors.New("stored ClientKey has the wrong length")
		}
		proof := make([]byte, len(sig))
		for i := range sig {
			proof[i] = key.ClientKey[i] ^ sig[i]
		}
		k.serverS = hmacOf(k.h, key.ServerKey, authMsg)
		return []byte(c2wop + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
	case 2:
		k.state = 3
		s := string(ch)
		if strings.HasPrefix(s, "e=") {
			return nil, errors.New("server error: " + s[2:])
		}
		v, ok := strings.CutPrefix(s, "v=")
		if i := strings.IndexByte(v, ','); i >= 0 {
			v = v[:i]
		}
		got, err := base64.StdEncoding.DecodeString(v)
		if !ok || err != nil || !hmac.Equal(got, k.serverS) {
			return nil, errors.New("server validation failed")
		}
		k.ok = true
		return nil, nil
	}
	return nil, errors.New("SCRAM conversation already complete")
}
func (k *keysConversation) verified() bool { return k.ok }

var errStaleKeys = errors.New("stored SCRAM keys do not match the server's salt or iteration count")

func hmacOf(h scramHash, key []byte, msg string) []byte {
	m := hmac.New(h.new, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func saslName(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

type serverFirst struct {
	nonce string
	salt  []byte
	iters int
}

func parseServerFirst(s string) (serverFirst, error) {
	var f serverFirst
	if strings.HasPrefix(s, "m=") {
		return f, errors.New("server requires an unsupported SCRAM extension")
	}
	for _, part := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "r":
			f.nonce = v
		case "s":
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return f, errors.New("bad salt encoding")
			}
			f.salt = b
		case "i":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return f, errors.New("bad iteration count")
			}
			f.iters = n
		}
	}
	if f.nonce == "" || f.salt == nil || f.iters == 0 {
		return f, errors.New("incomplete server-first-message")
	}
	if f.iters < 4096 {
		return f, fmt.Errorf("server asks for only %d iterations (RFC 5802 minimum is 4096)", f.iters)
	}
	return f, nil
}

// DeriveSCRAMKeys computes ClientKey and ServerKey from the password, as the app
// may when it first learns a server's salt and iteration count.
func DeriveSCRAMKeys(hashName, password string, salt []byte, iters int) (SCRAMKeys, error) {
	h := hashFor("SCRAM-" + hashName)
	if h.name != hashName {
		return SCRAMKeys{}, fmt.Errorf("xmpp: unknown SCRAM hash %q", hashName)
	}
	prepped, err := stringprep.SASLprep.Prepare(password)
	if err != nil {
		return SCRAMKeys{}, fmt.Errorf("xmpp: SASLprep password: %w", err)
	}
	salted, err := pbkdf2.Key(h.new, prepped, salt, iters, h.new().Size())
	if err != nil {
		return SCRAMKeys{}, err
	}
	return SCRAMKeys{Hash: hashName, Salt: append([]byte(nil), salt...), Iterations: iters,
		ClientKey: hmacOf(h, salted, "Client Key"), ServerKey: hmacOf(h, salted, "Server Key")}, nil
}

// newConversation prepares mech for user. It returns the conversation and, for
// password SCRAM, the xdg wrapper so the keys can be derived after success.
func newConversation(mech, user string, creds Credentials, tlsState *tls.ConnectionState, offer saslOffer) (saslConversation, *xdgConversation, error) {
	if mech == "PLAIN" {
		return &plainConversation{user: user, pass: creds.Password}, nil, nil
	}
	h := hashFor(mech)
	plus := strings.HasSuffix(mech, "-PLUS")
	cb, canBind := exporterBinding(tlsState)
	// Keys first: they avoid a PBKDF2 run. If the salt changed, the password path
	// (when we have it) is taken on a fresh attempt by the caller.
	if hasKeysFor(creds.Keys, h.name) {
		k := &keysConversation{h: h, user: user, keys: creds.Keys, gs2: "n,,"}
		switch {
		case plus:
			k.gs2, k.cbData = "p="+cbTLSExport+",,", cb.Data
		case canBind && !offerHasPlus(offer):
			k.gs2 = "y,,"
		}
		return k, nil, nil
	}
	client, err := h.gen.NewClient(user, creds.Password, "")
	if err != nil {
		return nil, nil, fmt.Errorf("xmpp: SCRAM client: %w", err)
	}
	var conv *scram.ClientConversation
	switch {
	case plus:
		conv = client.NewConversationWithChannelBinding(cb)
	case canBind && !offerHasPlus(offer):
		// RFC 5802 "y": we could bind but the server offered no -PLUS; a server
		// that does support binding will see a stripped offer and refuse.
		conv = client.NewConversationAdvertisingChannelBinding()
	default:
		conv = client.NewConversation()
	}
	x := &xdgConversation{conv: conv}
	return x, x, nil
}

func offerHasPlus(o saslOffer) bool {
	for _, m := range o.mechanisms {
		if strings.HasSuffix(m, "-PLUS") {
			return true
		}
	}
	return false
}

// authenticate runs SASL on t. On success it returns the mechanism used and,
// for SCRAM, the keys that can log in again without the password.
func authenticate(ctx context.Context, t *transport, features *Element, user string, creds Credentials) (string, *SCRAMKeys, error) {
	offer := parseSASLOffer(features)
	mech, err := chooseMechanism(offer, t.tlsState, creds)
	if err != nil {
		return "", nil, err
	}
	conv, xconv, err := newConversation(mech, user, creds, t.tlsState, offer)
	if err != nil {
		return mech, nil, err
	}
	fail := func(cond, text string) error {
		t.abortExchange()
		return &AuthError{Mechanism: mech, Condition: cond, Text: text}
	}
	first, err := conv.step(nil)
	if err != nil {
		return mech, nil, fail("client-error", err.Error())
	}
	auth := NewElement(nsSASL, "auth", "mechanism", mech).SetText(b64(first))
	if err := t.writeElement(ctx, auth); err != nil {
		return mech, nil, err
	}
	for {
		el, err := t.readElement(ctx)
		if err != nil {
			return mech, nil, err
		}
		if el.Name.Space != nsSASL {
			t.shutdown("invalid-namespace")
			return mech, nil, fmt.Errorf("%w: unexpected <%s/> during SASL", ErrProtocol, el.Name.Local)
		}
		switch el.Name.Local {
		case "challenge":
			data, err := unb64(el.Text)
			if err != nil {
				return mech, nil, fail("incorrect-encoding", "challenge is not base64")
			}
			resp, err := conv.step(data)
			if err != nil {
				if errors.Is(err, errStaleKeys) {
					return mech, nil, fail("stale-keys", err.Error())
				}
				return mech, nil, fail("server-signature", err.Error())
			}
			if err := t.writeElement(ctx, NewElement(nsSASL, "response").SetText(b64(resp))); err != nil {
				return mech, nil, err
			}
		case "success":
			if mech != "PLAIN" && !conv.verified() {
				data, err := unb64(el.Text)
				if err != nil || len(data) == 0 {
					return mech, nil, fail("server-signature", "success without server signature")
				}
				if _, err := conv.step(data); err != nil || !conv.verified() {
					return mech, nil, fail("server-signature", "server signature did not verify")
				}
			}
			var keys *SCRAMKeys
			if kc, ok := conv.(*keysConversation); ok && kc.used != nil {
				k := *kc.used
				keys = &k
			}
			if xconv != nil && xconv.salt != nil {
				if k, err := DeriveSCRAMKeys(hashFor(mech).name, creds.Password, xconv.salt, xconv.iters); err == nil {
					keys = &k
				}
			}
			return mech, keys, nil
		case "failure":
			cond, text := "not-authorized", el.ChildText(nsSASL, "text")
			for _, c := range el.Children {
				if c.Name.Local != "text" {
					cond = c.Name.Local
				}
			}
			return mech, nil, &AuthError{Mechanism: mech, Condition: cond, Text: text}
		default:
			t.shutdown("invalid-namespace")
			return mech, nil, fmt.Errorf("%w: unexpected <%s/> during SASL", ErrProtocol, el.Name.Local)
		}
	}
}

// abortExchange ends the stream after we refused to continue SASL (a bad server
// signature means we must not trust anything that follows).
func (t *transport) abortExchange() { t.shutdown("") }

func b64(b []byte) string {
	if len(b) == 0 {
		return "="
	}
	return base64.StdEncoding.EncodeToString(b)
}

func unb64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "=" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(s)
}
