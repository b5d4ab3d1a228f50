package sync

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestProbeTLSEveryEndpoint: the server check of a cluster verifies every
// node's endpoint, not only the first: a second node that cannot be reached
// over TLS is where every client goes when the first dies, so it is a
// finding, named by its host.
func TestProbeTLSEveryEndpoint(t *testing.T) {
	good := httptest.NewTLSServer(http.NotFoundHandler())
	defer good.Close()
	roots := x509.NewCertPool()
	roots.AddCert(good.Certificate())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // the second node is down: its port refuses
	first := "wss://" + strings.TrimPrefix(good.URL, "https://") + "/ws"
	second := "wss://" + dead + "/ws"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f := &ServerFacts{URL: first}
	probeTLS(ctx, f, Endpoints(first+" "+second), &tls.Config{RootCAs: roots})
	if f.TLSErr == nil {
		t.Fatalf("the second node's endpoint %s was not checked: no TLS finding", second)
	}
	if !strings.Contains(f.TLSErr.Error(), dead) {
		t.Errorf("the finding does not name the node: %v", f.TLSErr)
	}
	if f.CertExpires.IsZero() {
		t.Errorf("the first node's certificate was not read")
	}
	f = &ServerFacts{URL: first}
	probeTLS(ctx, f, Endpoints(first), &tls.Config{RootCAs: roots})
	if f.TLSErr != nil {
		t.Errorf("a single good endpoint: %v", f.TLSErr)
	}
}
