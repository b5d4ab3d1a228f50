package xmpp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// XEP-0363 HTTP File Upload: the server hands out a slot (a URL to PUT the
// file to, the headers to send with it, and the URL others GET it from). The
// file itself travels over HTTP, not over the XMPP stream.
const NSHTTPUpload = "urn:xmpp:http:upload:0"

// UploadService is an upload component found through disco.
type UploadService struct {
	JID string
	// MaxFileSize is the advertised limit in bytes; 0 means none announced.
	MaxFileSize int64
}

// ErrNoUploadService means the server lists no XEP-0363 component.
var ErrNoUploadService = errors.New("xmpp: the server offers no HTTP upload service (XEP-0363)")

// FileTooLargeError is the service refusing a slot because of its size limit
// (or our check against the advertised limit before asking).
type FileTooLargeError struct {
	Size, Max int64
}

func (e *FileTooLargeError) Error() string {
	if e.Max > 0 {
		return fmt.Sprintf("xmpp: file of %d bytes is larger than the server's upload limit of %d bytes", e.Size, e.Max)
	}
	return fmt.Sprintf("xmpp: the server refused a file of %d bytes as too large", e.Size)
}

// UploadSlot is where to PUT a file and where it can then be fetched.
type UploadSlot struct {
	PutURL string
	// PutHeaders holds only the headers XEP-0363 §5 allows a service to set
	// (Authorization, Cookie, Expires); any other is dropped, so a hostile
	// service cannot make us send Host or Content-Length of its choosing.
	PutHeaders http.Header
	GetURL     string
}

// DiscoverUpload finds the server's upload service: disco#items on our domain,
// then disco#info on each item until one has the XEP-0363 feature. The size
// limit comes from the service's extended info form (XEP-0128).
func (c *Client) DiscoverUpload(ctx context.Context) (UploadService, error) {
	domain := c.account.Domain
	// Some servers put the feature on the domain itself.
	if info, err := c.discoInfoOf(ctx, domain); err == nil {
		if svc, ok := uploadServiceFrom(domain, info); ok {
			return svc, nil
		}
	}
	iq := NewElement(NSClient, "iq", "type", "get", "to", domain).Append(NewElement(NSDiscoItems, "query"))
	res, err := c.SendIQ(ctx, iq)
	if err != nil {
		return UploadService{}, fmt.Errorf("xmpp: disco#items on %s: %w", domain, err)
	}
	for _, it := range res.Child(NSDiscoItems, "query").ChildrenNamed(NSDiscoItems, "item") {
		jid := it.Attr("jid")
		if jid == "" || it.Attr("node") != "" {
			continue
		}
		info, err := c.discoInfoOf(ctx, jid)
		if err != nil {
			if ctx.Err() != nil {
				return UploadService{}, ctx.Err()
			}
			continue
		}
		if svc, ok := uploadServiceFrom(jid, info); ok {
			return svc, nil
		}
	}
	return UploadService{}, ErrNoUploadService
}

func (c *Client) discoInfoOf(ctx context.Context, jid string) (*Element, error) {
	iq := NewElement(NSClient, "iq", "type", "get", "to", jid).Append(NewElement(NSDiscoInfo, "query"))
	res, err := c.SendIQ(ctx, iq)
	if err != nil {
		return nil, err
	}
	q := res.Child(NSDiscoInfo, "query")
	if q == nil {
		return nil, fmt.Errorf("xmpp: disco#info answer from %s without query", jid)
	}
	return q, nil
}

// uploadServiceFrom reads a disco#info query: the feature, and max-file-size
// from the form whose FORM_TYPE is the upload namespace.
func uploadServiceFrom(jid string, q *Element) (UploadService, bool) {
	if !ParseDiscoInfo(q).Has(NSHTTPUpload) {
		return UploadService{}, false
	}
	svc := UploadService{JID: jid}
	for _, x := range q.ChildrenNamed(NSDataForm, "x") {
		if formValue(x, "FORM_TYPE") != NSHTTPUpload {
			continue
		}
		if v := formValue(x, "max-file-size"); v != "" {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
				svc.MaxFileSize = n
			}
		}
	}
	return svc, true
}

func formValue(x *Element, name string) string {
	for _, f := range x.ChildrenNamed(NSDataForm, "field") {
		if f.Attr("var") == name {
			return f.ChildText(NSDataForm, "value")
		}
	}
	return ""
}

// RequestUploadSlot asks service for a slot for a file of size bytes. The
// filename is sent to the server: callers pass a neutral name, never one that
// could carry patient data. A service error file-too-large comes back as
// *FileTooLargeError.
func (c *Client) RequestUploadSlot(ctx context.Context, service, filename string, size int64, contentType string) (UploadSlot, error) {
	if size < 0 {
		return UploadSlot{}, fmt.Errorf("xmpp: upload slot: negative size")
	}
	if filename == "" {
		return UploadSlot{}, fmt.Errorf("xmpp: upload slot: empty file name")
	}
	req := NewElement(NSHTTPUpload, "request", "filename", filename, "size", strconv.FormatInt(size, 10))
	if contentType != "" {
		req.SetAttr("content-type", contentType)
	}
	res, err := c.SendIQ(ctx, NewElement(NSClient, "iq", "type", "get", "to", service).Append(req))
	if err != nil {
		var se *StanzaError
		if errors.As(err, &se) {
			if tl := tooLargeFrom(res, size); tl != nil {
				return UploadSlot{}, tl
			}
		}
		return UploadSlot{}, fmt.Errorf("xmpp: upload slot from %s: %w", service, err)
	}
	return ParseUploadSlot(res.Child(NSHTTPUpload, "slot"))
}

// tooLargeFrom reads <file-too-large><max-file-size/></file-too-large> from
// an error answer.
func tooLargeFrom(res *Element, size int64) *FileTooLargeError {
	e := res.Child(NSClient, "error")
	if e == nil {
		e = res.Child("", "error")
	}
	tl := e.Child(NSHTTPUpload, "file-too-large")
	if tl == nil {
		return nil
	}
	max, _ := strconv.ParseInt(strings.TrimSpace(tl.ChildText(NSHTTPUpload, "max-file-size")), 10, 64)
	return &FileTooLargeError{Size: size, Max: max}
}

// allowedPutHeaders are the only headers XEP-0363 §5 lets a slot set.
var allowedPutHeaders = map[string]bool{"Authorization": true, "Cookie": true, "Expires": true}

// ParseUploadSlot reads a <slot/>. Both URLs must be http(s) with a host;
// https is required except to loopback (the same rule as ws://), since the
// PUT carries the slot's credentials. Header values with line breaks are
// refused.
func ParseUploadSlot(slot *Element) (UploadSlot, error) {
	if slot == nil {
		return UploadSlot{}, errors.New("xmpp: upload slot answer has no <slot/>")
	}
	put, get := slot.Child(NSHTTPUpload, "put"), slot.Child(NSHTTPUpload, "get")
	if put == nil || get == nil {
		return UploadSlot{}, errors.New("xmpp: upload slot lacks <put/> or <get/>")
	}
	s := UploadSlot{PutURL: put.Attr("url"), GetURL: get.Attr("url"), PutHeaders: http.Header{}}
	for _, u := range []string{s.PutURL, s.GetURL} {
		if err := CheckHTTPURL(u); err != nil {
			return UploadSlot{}, err
		}
	}
	for _, h := range put.ChildrenNamed(NSHTTPUpload, "header") {
		name := http.CanonicalHeaderKey(strings.TrimSpace(h.Attr("name")))
		if !allowedPutHeaders[name] {
			continue
		}
		v := h.Text
		if strings.ContainsAny(v, "\r\n\x00") {
			return UploadSlot{}, fmt.Errorf("xmpp: upload slot header %s has a line break", name)
		}
		s.PutHeaders.Add(name, v)
	}
	return s, nil
}

// CheckHTTPURL accepts https URLs, and http only to loopback. Its errors
// never quote the URL: a slot URL is the upload's credential (ejabberd signs
// in its path) and a GET URL is the file itself, so at most the scheme and
// host are named.
func CheckHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL
		}
		return fmt.Errorf("xmpp: bad upload URL: %w", err)
	}
	if u.Host == "" {
		return errors.New("xmpp: upload URL has no host")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("xmpp: upload URL on %s: plain http is allowed only to loopback", u.Host)
	}
	return fmt.Errorf("xmpp: upload URL on %s: scheme %q: must be https", u.Host, u.Scheme)
}
