package sync

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	gosync "sync"

	"rounds/media"
	"rounds/securestore"
	"rounds/sync/xmpp"
)

// Attachments: files shared in messages, encrypted on this device before
// upload (XEP-0454 AES-256-GCM, one fresh key per file), uploaded through
// the server's XEP-0363 service, and announced by a message whose body is the
// aesgcm:// link, with an XEP-0066 out-of-band element and an XEP-0428
// fallback marker, as Conversations, Dino and Monal send them, plus an
// XEP-0446 <file/> element with the file's name, type, size and SHA-256 so
// the receiver can show what it is before downloading and check the
// download against it. The name travels only in the message (which the
// XMPP server sees anyway, key included); the upload URL keeps a random
// name, so the HTTP file server and its logs never learn it.
//
// How a message with an attachment is stored:
//   - the message's Body is the aesgcm:// link (it carries the key, so it is
//     sealed under the message's retention period like every body);
//   - Extra[ExtraAttachmentMeta] is the <file/> element sent or received;
//   - Extra[ExtraAttachment] is the attachment id; one securestore.Attachment
//     row per attachment holds name, MIME type, size, link, IV+key and the
//     SHA-256 of the plaintext once known;
//   - the plaintext, once uploaded from here or downloaded, lives only in the
//     store's encrypted vault under that attachment id.
//
// Incoming messages only get Extra[ExtraAttachmentURL] when they are stored
// (live, carbon or archive all pass through toStored); the attachment row
// is made on first use by Attachments, so the receive path stays one
// store transaction per message.
//
// Deletion: Prosody's http_file_share (and most XEP-0363 services) offers no
// client-side delete; the file expires on the server (24 h in our test
// configuration). Recall therefore means discarding the key locally
// (ForgetAttachment); the server copy is ciphertext without its key.

// Extra keys of stored messages.
const (
	// ExtraAttachment is the attachment id of a message that shares a file.
	ExtraAttachment = "attachment"
	// ExtraAttachmentURL is the aesgcm:// (or plain https://) link of an
	// incoming attachment not yet given its own row.
	ExtraAttachmentURL = "attachment.url"
	// ExtraAttachmentMeta is the XEP-0446 <file/> element (serialized) the
	// message carries: built by Upload so a resend rebuilds the same stanza,
	// or received and checked by noteAttachments. It is sealed with the
	// message like every Extra field.
	ExtraAttachmentMeta = "attachment.meta"
	// ExtraAttachmentInClear ("1") marks a message whose file link is a
	// plain https:// URL (XEP-0363/0066 without XEP-0454), as clients
	// without file encryption send: the file sat on the upload server
	// unencrypted, readable by the server and anyone holding the link.
	ExtraAttachmentInClear = "attachment.in-clear"
)

// NSFallback is XEP-0428 Fallback Indication.
const NSFallback = "urn:xmpp:fallback:0"

// DefaultMaxDownload bounds a download when the server advertised no upload
// limit (or we have not asked yet): a bigger file is refused before a byte
// of it is stored.
const DefaultMaxDownload int64 = 512 << 20

// Typed errors of Upload and Download. Each one means nothing was sent
// (Upload) or nothing was stored (Download).
var (
	// ErrOffline: the Session is not signed in; an upload needs the server
	// (slot request) and is not queued. Retrying is the user's choice.
	ErrOffline = errors.New("sync: not connected; the file was not sent")
	// ErrDownloadTruncated: the connection ended before the whole file came.
	ErrDownloadTruncated = errors.New("sync: the download ended early; nothing was stored")
	// ErrUploadSize: the reader gave more or fewer bytes than announced.
	ErrUploadSize = errors.New("sync: file size changed while uploading")
	// ErrNotAttachment: the message carries no attachment link we can read.
	ErrNotAttachment = errors.New("sync: not an attachment")
	// ErrAttachmentAuth is xmpp.ErrAESGCMAuth: wrong key, or the file was
	// altered or cut on the server or on the way.
	ErrAttachmentAuth = xmpp.ErrAESGCMAuth
	// ErrAttachmentMismatch: the file on the server is not the one its
	// message described (another size, another SHA-256). Nothing was stored.
	ErrAttachmentMismatch = errors.New("sync: the file is not the one its message described; nothing was stored")
	// errRedirectRefused replaces CheckHTTPURL's error on a redirect, which
	// would quote the URL.
	errRedirectRefused = errors.New("the file server redirected to a URL that is not https")
)

// HTTPStatusError is an HTTP answer other than success from the upload or
// download server (404 gone or expired, 413 too large, 5xx server trouble).
type HTTPStatusError struct {
	Op     string // "upload" or "download"
	Status int
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("sync: %s: the file server answered %d %s", e.Op, e.Status, http.StatusText(e.Status))
}

// TooLargeError: a file is larger than allowed. For uploads Max is the
// server's advertised limit; for downloads it is that limit (or
// DefaultMaxDownload) and Size what the server announced or sent.
type TooLargeError struct {
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("sync: file of %d bytes exceeds the limit of %d bytes", e.Size, e.Max)
}

// TypeMismatchError: the file's content is not of the type it claims (a
// "photo" that is HTML or an executable). The file is not stored; the
// detected type is what the content looks like, never to be trusted either.
type TypeMismatchError struct {
	Declared, Detected string
}

func (e *TypeMismatchError) Error() string {
	return fmt.Sprintf("sync: the file claims to be %s but its content looks like %s; it was not stored", e.Declared, e.Detected)
}

// Progress reports bytes done out of total (total is -1 when unknown). It
// is called from the transferring goroutine, often; keep it cheap.
type Progress func(done, total int64)

// uploadCache remembers the server's upload service per XMPP session.
type uploadCache struct {
	mu  gosync.Mutex
	gen int
	svc *xmpp.UploadService
	max int64 // last advertised limit, kept across sessions for downloads
}

// UploadLimit discovers (once per sign-in) the server's upload service and
// returns its advertised maximum file size in bytes (0: none announced),
// so the app can say so before the user picks a file. The limit applies to
// the encrypted file, which is 16 bytes longer than the original.
func (s *Session) UploadLimit(ctx context.Context) (int64, error) {
	svc, err := s.uploadService(ctx)
	if err != nil {
		return 0, err
	}
	return svc.MaxFileSize, nil
}

func (s *Session) uploadService(ctx context.Context) (xmpp.UploadService, error) {
	c := s.currentClient()
	if c == nil || !c.Connected() {
		return xmpp.UploadService{}, ErrOffline
	}
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	u := &s.uploads
	u.mu.Lock()
	if u.svc != nil && u.gen == gen {
		svc := *u.svc
		u.mu.Unlock()
		return svc, nil
	}
	u.mu.Unlock()
	svc, err := c.DiscoverUpload(ctx)
	if err != nil {
		return xmpp.UploadService{}, err
	}
	u.mu.Lock()
	u.svc, u.gen, u.max = &svc, gen, svc.MaxFileSize
	u.mu.Unlock()
	return svc, nil
}

// httpClient is the client for uploads and downloads: the XMPP config's
// (proxies, test transports), else one that verifies with its TLS config.
// No overall timeout: the caller's context bounds a transfer.
// Redirects are followed only to URLs CheckHTTPURL accepts (https, or http
// to loopback), so a file server cannot downgrade a transfer to plain http.
func (s *Session) httpClient() *http.Client {
	c := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("sync: too many redirects")
		}
		if xmpp.CheckHTTPURL(req.URL.String()) != nil {
			return errRedirectRefused
		}
		return nil
	}}
	if hc := s.cfg.XMPP.HTTPClient; hc != nil {
		c.Transport, c.Jar = hc.Transport, hc.Jar
		return c
	}
	c.Transport = &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		TLSClientConfig:   s.cfg.XMPP.TLSConfig,
		ForceAttemptHTTP2: true,
	}
	return c
}

// Upload encrypts file (size bytes, read once, streamed) with a fresh key,
// uploads it through the server's XEP-0363 service and, only once the
// server has stored all of it, stores and sends a message to conv carrying
// the link. name and mimeType describe the file: kept in the store and sent
// to the recipients in the message's XEP-0446 metadata; the upload server
// sees neither (the upload is named by a random id with the file's
// extension, so clients without XEP-0446 can still guess its type).
// A copy of the plaintext goes into the vault, so the sender can view it
// without downloading (UploadWith can skip that).
//
// On any error (cancelled ctx, lost connection, HTTP failure, size limit)
// no message exists and nothing is left in the vault; retrying is the
// user's choice. progress (may be nil) sees encrypted bytes sent.
func (s *Session) Upload(ctx context.Context, conv string, file io.Reader, name, mimeType string, size int64, progress Progress) (securestore.Message, securestore.Attachment, error) {
	return s.UploadWith(ctx, conv, file, UploadOptions{Name: name, MIME: mimeType, Size: size, Progress: progress})
}

// UploadOptions describe one file for UploadWith.
type UploadOptions struct {
	// Name and MIME travel to the recipients in the message's XEP-0446
	// metadata (never to the upload server). A name that could be read as a
	// path (xmpp.CheckFileName) is kept locally but not sent.
	Name, MIME string
	Size       int64
	// Width and Height (pixels, 0 if unknown) of a photo, sent as metadata.
	Width, Height int
	Progress      Progress
	// NoLocalCopy skips the vault copy of the plaintext: for a file that
	// stays where the user picked it (a document on a desktop). The sender
	// then views it by downloading it like a recipient.
	NoLocalCopy bool
}

// UploadWith is Upload with every option.
func (s *Session) UploadWith(ctx context.Context, conv string, file io.Reader, o UploadOptions) (securestore.Message, securestore.Attachment, error) {
	name, mimeType, size, progress := o.Name, o.MIME, o.Size, o.Progress
	var none securestore.Message
	if _, err := xmpp.ParseJID(conv); err != nil {
		return none, securestore.Attachment{}, fmt.Errorf("sync: conversation %q: %w", conv, err)
	}
	if size < 0 {
		return none, securestore.Attachment{}, fmt.Errorf("%w: negative size", ErrUploadSize)
	}
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	svc, err := s.uploadService(ctx)
	if err != nil {
		return none, securestore.Attachment{}, err
	}
	encSize := size + 16
	if svc.MaxFileSize > 0 && encSize > svc.MaxFileSize {
		return none, securestore.Attachment{}, &TooLargeError{Size: encSize, Max: svc.MaxFileSize}
	}
	c := s.currentClient()
	if c == nil {
		return none, securestore.Attachment{}, ErrOffline
	}
	slot, err := c.RequestUploadSlot(ctx, svc.JID, uploadName(name), encSize, "application/octet-stream")
	if err != nil {
		return none, securestore.Attachment{}, err
	}
	key, iv := make([]byte, xmpp.AESGCMKeySize), make([]byte, xmpp.AESGCMIVSize)
	rand.Read(key)
	rand.Read(iv)
	link, err := xmpp.NewAESGCMURL(slot.GetURL, iv, key)
	if err != nil {
		return none, securestore.Attachment{}, err
	}
	attID := xmpp.NewID()
	var blob *securestore.BlobWriter
	sum := sha256.New()
	src := &exactReader{r: file, want: size}
	var plain io.Reader = io.TeeReader(src, sum)
	var local *senderCopy
	if !o.NoLocalCopy {
		if blob, err = s.store.CreateBlob(attID); err != nil {
			return none, securestore.Attachment{}, err
		}
		// The copy is written beside the upload (sendercopy.go); on every
		// way out it is stopped before the pending file is discarded (a
		// no-op once committed).
		local = newSenderCopy(blob)
		defer func() {
			local.abort()
			blob.Abort()
		}()
		plain = io.TeeReader(plain, local)
	}
	enc, err := xmpp.NewAESGCMEncrypter(plain, key, iv)
	if err != nil {
		return none, securestore.Attachment{}, err
	}
	body := &progressReader{r: enc, total: encSize, fn: progress}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, slot.PutURL, body)
	if err != nil {
		return none, securestore.Attachment{}, transferError("upload", err)
	}
	req.ContentLength = encSize
	for k, vs := range slot.PutHeaders {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := s.httpClient().Do(req)
	if err != nil {
		if src.err != nil {
			return none, securestore.Attachment{}, src.err
		}
		if ctx.Err() != nil {
			return none, securestore.Attachment{}, ctx.Err()
		}
		return none, securestore.Attachment{}, transferError("upload", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return none, securestore.Attachment{}, &HTTPStatusError{Op: "upload", Status: resp.StatusCode}
	}
	if src.err != nil || src.n != size {
		return none, securestore.Attachment{}, ErrUploadSize
	}
	if local != nil {
		// The local copy failing ends the upload as it did when written
		// inline: no message, nothing in the vault.
		if err := local.finish(); err != nil {
			return none, securestore.Attachment{}, fmt.Errorf("sync: keeping local copy of upload: %w", err)
		}
	}
	// The server has the whole file: now it becomes a message, persisted
	// before it is sent like every other. Its metadata is kept with it so
	// a resend after a reconnect carries the same <file/> element.
	meta := outgoingMetadata(o, sum.Sum(nil))
	now := s.clock.Now()
	m, err := s.store.Enqueue(securestore.Message{
		ConversationID: xmpp.BareJID(conv),
		From:           s.account,
		To:             xmpp.BareJID(conv),
		Direction:      securestore.Outgoing,
		Body:           link.String(),
		OriginID:       xmpp.NewID(),
		Timestamp:      now,
		ReceivedAt:     now,
		Extra:          s.ownExtra(map[string]string{ExtraAttachment: attID, ExtraAttachmentMeta: meta.Element().String()}),
	})
	if err != nil {
		return none, securestore.Attachment{}, err
	}
	att := securestore.Attachment{
		ID: attID, MessageID: m.ID, Name: name, MIME: mimeType, Size: size,
		URL: link.String(), Key: append(append([]byte(nil), iv...), key...), SHA256: meta.SHA256,
	}
	// The message is durable from here; a failure to record the attachment
	// or keep the local copy only means the sender must download it to view.
	if err := s.store.PutAttachment(att); err != nil {
		s.log.Warn("sync: recording attachment", "err", err)
	} else if blob == nil {
		// No local copy wanted.
	} else if err := blob.Commit(); err != nil {
		s.log.Warn("sync: keeping local copy of upload", "err", err)
	}
	s.emit(MessagesAdded{Messages: []securestore.Message{m}})
	if c := s.readyClient(); c != nil {
		s.transmit(c, m)
	}
	return m, att, nil
}

// uploadName is what the server sees: a random id and the file's
// extension (lower-case letters and digits only), never the user's name.
func uploadName(name string) string {
	ext := strings.ToLower(path.Ext(strings.ReplaceAll(name, "\\", "/")))
	clean := ext != "" && len(ext) <= 9
	for _, r := range strings.TrimPrefix(ext, ".") {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			clean = false
		}
	}
	if !clean || ext == "." {
		ext = ".bin"
	}
	return xmpp.NewID() + ext
}

// outgoingMetadata is the XEP-0446 element of an upload: what the sender's
// client knows of the file, checked as strictly as a receiver will.
func outgoingMetadata(o UploadOptions, sha []byte) xmpp.FileMetadata {
	f := xmpp.FileMetadata{Size: o.Size, SHA256: sha}
	if xmpp.CheckFileName(o.Name) == nil {
		f.Name = o.Name
	}
	if o.MIME != "" {
		if m, err := xmpp.DecodeFileMetadata([]byte(xmpp.FileMetadata{MediaType: o.MIME, Size: -1}.Element().String())); err == nil {
			f.MediaType = m.MediaType
		}
	}
	if o.Width > 0 && o.Height > 0 && o.Width <= 1<<16 && o.Height <= 1<<16 {
		f.Width, f.Height = o.Width, o.Height
	}
	return f
}

// decorateAttachment adds the out-of-band element, the fallback marker and
// the file's XEP-0446 metadata to the stanza of a stored message that
// shares a file.
func (s *Session) decorateAttachment(el *xmpp.Element, m securestore.Message) {
	if m.Extra[ExtraAttachment] == "" || !xmpp.LooksLikeAESGCM(m.Body) {
		return
	}
	el.Append(xmpp.OOBElement(m.Body, ""))
	el.Append(xmpp.NewElement(NSFallback, "fallback", "for", xmpp.NSOOB))
	if raw := m.Extra[ExtraAttachmentMeta]; raw != "" {
		meta, err := xmpp.DecodeFileMetadata([]byte(raw))
		if err != nil {
			s.log.Warn("sync: stored file metadata unreadable; sending the link alone", "err", err)
			return
		}
		el.Append(meta.Element())
	}
}

// noteAttachments marks an incoming (or carbon, or archived) message that
// shares a file: an out-of-band URL equal to the body, or a body that is an
// aesgcm:// link on its own. A link that is not aesgcm:// is marked in clear
// (ExtraAttachmentInClear).
func (s *Session) noteAttachments(sm *securestore.Message, m *xmpp.Message) {
	link := ""
	body := strings.TrimSpace(m.Body)
	if m.Stanza != nil {
		for _, u := range xmpp.OOBURLs(m.Stanza) {
			if strings.TrimSpace(u) == body {
				link = body
			}
		}
	}
	if link == "" && xmpp.LooksLikeAESGCM(body) && !strings.ContainsAny(body, " \n") {
		link = body
	}
	if link == "" {
		return
	}
	if sm.Extra == nil {
		sm.Extra = map[string]string{}
	}
	sm.Extra[ExtraAttachmentURL] = link
	if !xmpp.LooksLikeAESGCM(link) {
		sm.Extra[ExtraAttachmentInClear] = "1"
	}
	if m.Stanza == nil {
		return
	}
	// The sender's metadata, if it reads cleanly; otherwise the message is
	// kept and shown with what the link says (nothing lost).
	fe, err := xmpp.FindFileMetadata(m.Stanza)
	if err == nil && fe != nil {
		var meta xmpp.FileMetadata
		if meta, err = xmpp.ParseFileMetadata(fe); err == nil {
			sm.Extra[ExtraAttachmentMeta] = meta.Element().String()
		}
	}
	if err != nil {
		s.log.Warn("sync: ignoring an attachment's file metadata", "err", err)
	}
}

// SharedFileName is the file name at the end of an aesgcm:// link
// (XEP-0454), without the key in its fragment: what an export may call the
// file. ok is false when link is not such a link.
func SharedFileName(link string) (name string, ok bool) {
	p, err := xmpp.ParseAESGCMURL(link)
	if err != nil {
		return "", false
	}
	return path.Base(p.HTTPURL), true
}

// Attachments returns the attachments of a stored message, making the row
// of an incoming one on first use (its id is "m" + the message's local id).
// Name, type, size and SHA-256 come from the sender's XEP-0446 metadata
// when the message had it; otherwise name and type come from the link's
// file name and Size is 0 until downloaded.
func (s *Session) Attachments(m securestore.Message) ([]securestore.Attachment, error) {
	atts, err := s.store.Attachments(m.ID)
	if err != nil || len(atts) > 0 {
		return atts, err
	}
	link := m.Extra[ExtraAttachmentURL]
	if link == "" {
		return nil, nil
	}
	a := securestore.Attachment{ID: fmt.Sprintf("m%d", m.ID), MessageID: m.ID, URL: link}
	if p, err := xmpp.ParseAESGCMURL(link); err == nil {
		a.Key = append(append([]byte(nil), p.IV...), p.Key...)
		a.Name, a.MIME = nameAndType(p.HTTPURL)
	} else if xmpp.CheckHTTPURL(link) == nil {
		a.Name, a.MIME = nameAndType(link)
	} else {
		return nil, nil // a link we cannot fetch: shown as text only
	}
	if raw := m.Extra[ExtraAttachmentMeta]; raw != "" {
		if meta, err := xmpp.DecodeFileMetadata([]byte(raw)); err == nil {
			if meta.Name != "" {
				a.Name = meta.Name
			}
			if meta.MediaType != "" {
				a.MIME = meta.MediaType
			}
			if meta.Size >= 0 {
				a.Size = meta.Size
			}
			a.SHA256 = meta.SHA256
		}
	}
	if err := s.store.PutAttachment(a); err != nil {
		return nil, err
	}
	return []securestore.Attachment{a}, nil
}

func nameAndType(raw string) (string, string) {
	u, err := url.Parse(raw)
	if err != nil {
		return "file", "application/octet-stream"
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." || name == "" {
		name = "file"
	}
	t := media.TypeByName(name)
	if t == "" {
		t = "application/octet-stream"
	}
	return name, t
}

// Download fetches an attachment, verifies and decrypts it into the vault,
// and returns its updated metadata (Size, SHA256). The plaintext goes only
// into a pending vault file that becomes visible after the GCM tag checked,
// the content matched its declared type and, when the message declared
// them (XEP-0446), its size and SHA-256. A declared size (Size > 0 before
// the download) must agree with the server's Content-Length and the bytes
// received, and fit the download limit before anything is fetched.
// On any failure nothing is stored and the error is typed: *HTTPStatusError,
// *TooLargeError, ErrDownloadTruncated, ErrAttachmentAuth (wrong key,
// altered file), ErrAttachmentMismatch (size or hash not as declared),
// *TypeMismatchError, ErrNotAttachment, or ctx's error when cancelled.
// Errors never quote the URL (its path may name the file; an aesgcm://
// link's fragment is the key). progress (may be nil) sees encrypted bytes
// received.
func (s *Session) Download(ctx context.Context, attachmentID string, progress Progress) (securestore.Attachment, error) {
	a, err := s.store.Attachment(attachmentID)
	if err != nil {
		return a, err
	}
	var key, iv []byte
	getURL := a.URL
	if p, err := xmpp.ParseAESGCMURL(a.URL); err == nil {
		key, iv, getURL = p.Key, p.IV, p.HTTPURL
	} else if xmpp.CheckHTTPURL(a.URL) != nil {
		return a, fmt.Errorf("%w: %v", ErrNotAttachment, err)
	}
	limit := s.downloadLimit()
	// want is the declared length on the wire (-1: not declared); the
	// ciphertext of an aesgcm:// file carries a 16-byte tag.
	want := int64(-1)
	if a.Size > 0 {
		want = a.Size
		if key != nil {
			want += 16
		}
		if want > limit {
			return a, &TooLargeError{Size: want, Max: limit}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, getURL, nil)
	if err != nil {
		return a, fmt.Errorf("%w: %v", ErrNotAttachment, withoutURL(err))
	}
	resp, err := s.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return a, ctx.Err()
		}
		return a, transferError("download", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return a, &HTTPStatusError{Op: "download", Status: resp.StatusCode}
	}
	if resp.ContentLength > limit {
		return a, &TooLargeError{Size: resp.ContentLength, Max: limit}
	}
	if want >= 0 && resp.ContentLength >= 0 && resp.ContentLength != want {
		return a, fmt.Errorf("%w: expected %d bytes from the server (declared size, encrypted), it has %d", ErrAttachmentMismatch, want, resp.ContentLength)
	}
	readMax := limit
	if want >= 0 {
		readMax = want
	}
	blob, err := s.store.CreateBlob(a.ID)
	if err != nil {
		return a, err
	}
	defer blob.Abort()
	sum := sha256.New()
	sniff := &sniffWriter{w: io.MultiWriter(blob, sum)}
	var sink io.Writer = sniff
	var dec *xmpp.AESGCMDecrypter
	if key != nil {
		if dec, err = xmpp.NewAESGCMDecrypter(sniff, key, iv); err != nil {
			return a, fmt.Errorf("%w: %v", ErrNotAttachment, err)
		}
		sink = dec
	}
	body := &progressReader{r: io.LimitReader(resp.Body, readMax+1), total: resp.ContentLength, fn: progress}
	n, err := io.Copy(sink, body)
	switch {
	case ctx.Err() != nil:
		return a, ctx.Err()
	case errors.Is(err, io.ErrUnexpectedEOF):
		return a, ErrDownloadTruncated
	case err != nil:
		return a, transferError("download", err)
	case want >= 0 && n > want:
		return a, fmt.Errorf("%w: expected %d bytes from the server (declared size, encrypted), it sent more", ErrAttachmentMismatch, want)
	case n > limit:
		return a, &TooLargeError{Size: n, Max: limit}
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		return a, ErrDownloadTruncated
	case want >= 0 && n != want:
		return a, fmt.Errorf("%w: expected %d bytes from the server (declared size, encrypted), it sent %d", ErrAttachmentMismatch, want, n)
	}
	if dec != nil {
		if err := dec.Close(); err != nil {
			return a, err
		}
	}
	if err := checkType(a.MIME, sniff.head); err != nil {
		return a, err
	}
	got := sum.Sum(nil)
	if len(a.SHA256) > 0 && !bytes.Equal(a.SHA256, got) {
		return a, fmt.Errorf("%w: its SHA-256 differs from the one declared", ErrAttachmentMismatch)
	}
	if err := blob.Commit(); err != nil {
		return a, err
	}
	a.Size = sniff.n
	a.SHA256 = got
	if err := s.store.PutAttachment(a); err != nil {
		s.log.Warn("sync: recording downloaded size", "err", err)
	}
	return a, nil
}

// ForgetAttachment discards an attachment locally: the vault copy and the
// key (the row keeps name and type, the link loses its key). This is what
// recall does for files, since XEP-0363 servers offer no delete.
func (s *Session) ForgetAttachment(attachmentID string) error {
	if err := s.store.DeleteBlob(attachmentID); err != nil && !errors.Is(err, securestore.ErrNotFound) {
		return err
	}
	a, err := s.store.Attachment(attachmentID)
	if err != nil {
		return err
	}
	if p, err := xmpp.ParseAESGCMURL(a.URL); err == nil {
		a.URL = p.HTTPURL
	}
	clear(a.Key)
	a.Key = nil
	return s.store.PutAttachment(a)
}

// transferError is an HTTP client failure without the request's URL:
// *url.Error quotes it, and its path may name the file (an old upload, a
// plain https link). Only the cause is kept, so typed errors underneath
// (net.Error, x509 errors, context errors) still match errors.Is/As.
func transferError(op string, err error) error {
	return fmt.Errorf("sync: %s: %w", op, withoutURL(err))
}

func withoutURL(err error) error {
	var ue *url.Error
	for errors.As(err, &ue) {
		err = ue.Err
	}
	return err
}

func (s *Session) downloadLimit() int64 {
	s.uploads.mu.Lock()
	defer s.uploads.mu.Unlock()
	if s.uploads.max > 0 {
		return s.uploads.max
	}
	return DefaultMaxDownload
}

// checkType compares the declared type with what the content looks like,
// by the list the sender's app checks against too (media): an "image/jpeg"
// that is HTML, a PDF that is a ZIP, a text file that is binary are refused.
func checkType(declared string, head []byte) error {
	if got, bad := media.Contradicts(declared, head); bad {
		return &TypeMismatchError{Declared: declared, Detected: got}
	}
	return nil
}

// exactReader reads exactly want bytes from r, recording a shorter or longer
// source as ErrUploadSize.
type exactReader struct {
	r    io.Reader
	want int64
	n    int64
	err  error
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.n == e.want {
		// The announced size is reached: the source must be exhausted too.
		var one [1]byte
		k, err := e.r.Read(one[:])
		if k > 0 {
			e.err = fmt.Errorf("%w: more than %d bytes", ErrUploadSize, e.want)
			return 0, e.err
		}
		if err == nil || err == io.EOF {
			return 0, io.EOF
		}
		e.err = err
		return 0, err
	}
	if int64(len(p)) > e.want-e.n {
		p = p[:e.want-e.n]
	}
	k, err := e.r.Read(p)
	e.n += int64(k)
	if err == io.EOF && e.n < e.want {
		e.err = fmt.Errorf("%w: only %d of %d bytes", ErrUploadSize, e.n, e.want)
		return k, e.err
	}
	if err == io.EOF {
		err = nil
	}
	if err != nil {
		e.err = err
	}
	return k, err
}

type progressReader struct {
	r     io.Reader
	done  int64
	total int64
	fn    Progress
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 && p.fn != nil {
		p.done += int64(n)
		p.fn(p.done, p.total)
	}
	return n, err
}

// sniffWriter passes writes on and keeps the first 512 bytes for type
// detection.
type sniffWriter struct {
	w    io.Writer
	head []byte
	n    int64
}

func (s *sniffWriter) Write(p []byte) (int, error) {
	if len(s.head) < 512 {
		s.head = append(s.head, p[:min(len(p), 512-len(s.head))]...)
	}
	n, err := s.w.Write(p)
	s.n += int64(n)
	return n, err
}
