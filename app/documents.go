package app

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"

	"rounds/jid"
	"rounds/sync"
)

// What the admin tools publish (rounds admin publish-policy,
// publish-oncall; docs/CLI.md) is built and checked by sync with the
// clients' own decoder (sync/documents.go); the CLI reaches it here, as it
// reaches everything, through app.

// Document is a published node item's payload (a policy or a schedule).
type Document = sync.Document

// MaxScheduleDocumentBytes is the largest schedule document that reaches
// the devices inside a pubsub item.
const MaxScheduleDocumentBytes = sync.MaxScheduleDocumentBytes

// CheckScheduleDocument reads the payload back with the clients' own decoder,
// so what is published is what every device will read, and refuses one too
// large to reach them inside a pubsub item.
func CheckScheduleDocument(el *Document) error { return sync.CheckScheduleDocument(el) }

// PolicyDocument checks a policy document an administrator wrote with the
// clients' decoder and returns the element to publish.
func PolicyDocument(data []byte) (*Document, error) { return sync.PolicyDocument(data) }

// ScheduleDocument is the payload of the on-call node's item "current"
// (urn:rounds:oncall:0, docs/PROTOCOL.md), shifts in start order.
func ScheduleDocument(shifts []Shift) *Document {
	w := make([]sync.Shift, len(shifts))
	for i, s := range shifts {
		w[i] = sync.Shift{Role: s.Role, JID: s.JID, From: s.From, Until: s.Until, Backup: s.Backup, Orders: s.Orders}
	}
	return sync.ScheduleDocument(w)
}

// CheckPerson accepts a bare user@domain JID and returns it normalised.
func CheckPerson(s string) (string, error) {
	s = strings.TrimSpace(s)
	j, err := jid.Parse(s)
	if err != nil {
		return "", err
	}
	if j.Local == "" || j.Resource != "" {
		return "", fmt.Errorf("want user@domain")
	}
	return j.String(), nil
}

// DiscoverServer finds the WebSocket endpoint of domain (XEP-0156), over
// TLS verified with tlsConf (nil: the system's roots).
func DiscoverServer(ctx context.Context, tlsConf *tls.Config, domain string) (string, error) {
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConf}}
	return sync.DiscoverServer(ctx, hc, domain)
}

// CheckServerURL refuses a server URL Rounds will not connect to (anything
// but wss://, save ws:// to the loopback for tests).
func CheckServerURL(url string) error { return sync.CheckServerURL(url) }
