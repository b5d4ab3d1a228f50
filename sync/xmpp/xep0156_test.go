package xmpp

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func hostMetaServer(t *testing.T, xrd, jrd string) (*httptest.Server, string) {
	mux := http.NewServeMux()
	if xrd != "" {
		mux.HandleFunc("/.well-known/host-meta", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(xrd)) })
	}
	if jrd != "" {
		mux.HandleFunc("/.well-known/host-meta.json", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(jrd)) })
	}
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv, strings.TrimPrefix(srv.URL, "https://")
}

func TestDiscoverWebSocketXRD(t *testing.T) {
	srv, domain := hostMetaServer(t, `<?xml version='1.0' encoding='utf-8'?>
<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <Link rel="urn:xmpp:alt-connections:xbosh" href="https://hospital.example/http-bind"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="ws://hospital.example/plain"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://hospital.example/xmpp-websocket"/>
</XRD>`, "")
	u, err := DiscoverWebSocket(ctxT(t), srv.Client(), domain)
	if err != nil || u != "wss://hospital.example/xmpp-websocket" {
		t.Fatalf("got %q, %v", u, err)
	}
}

func TestDiscoverWebSocketJSONFallback(t *testing.T) {
	srv, domain := hostMetaServer(t, "", `{"links":[{"rel":"urn:xmpp:alt-connections:websocket","href":"wss://hospital.example/ws"}]}`)
	u, err := DiscoverWebSocket(ctxT(t), srv.Client(), domain)
	if err != nil || u != "wss://hospital.example/ws" {
		t.Fatalf("got %q, %v", u, err)
	}
}

func TestDiscoverWebSocketNothingUsable(t *testing.T) {
	srv, domain := hostMetaServer(t, `<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel="urn:xmpp:alt-connections:websocket" href="ws://hospital.example/plain"/></XRD>`, `not json`)
	_, err := DiscoverWebSocket(ctxT(t), srv.Client(), domain)
	if !errors.Is(err, ErrNoWebSocketEndpoint) {
		t.Fatalf("err = %v", err)
	}
	// An unverifiable certificate is an error too (default client, no test CA).
	if _, err := DiscoverWebSocket(ctxT(t), nil, domain); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
}

// TestDiscoverWebSocketsCluster: a cluster's host-meta lists one link per
// node; every wss:// one comes back, in the document's order, once each.
func TestDiscoverWebSocketsCluster(t *testing.T) {
	srv, domain := hostMetaServer(t, `<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://node1.hospital.example/ws"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="ws://node3.hospital.example/ws"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://node2.hospital.example/ws"/>
  <Link rel="urn:xmpp:alt-connections:websocket" href="wss://node1.hospital.example/ws"/>
</XRD>`, "")
	urls, err := DiscoverWebSockets(ctxT(t), srv.Client(), domain)
	if err != nil || strings.Join(urls, " ") != "wss://node1.hospital.example/ws wss://node2.hospital.example/ws" {
		t.Fatalf("got %q, %v", urls, err)
	}
}
