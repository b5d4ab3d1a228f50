package app

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	gosync "sync"
	"time"

	"rounds/media"
	"rounds/securestore"
	"rounds/sync"
)

// Attachments as the app offers them: photos, PDFs and other files shared
// in a conversation. sync encrypts, uploads, downloads and verifies; the
// store's vault keeps the plaintext encrypted on this device. The app adds
// the policy on top:
//
//   - photos are shrunk (longest side MaxImageSide) and re-encoded before
//     they leave the device, so EXIF metadata (GPS position, camera serial,
//     time) goes with nothing but pixels, unless the user asks for the
//     original;
//   - a file is only ever read back from the vault: thumbnails and the
//     viewer decode it in memory, thumbnails are cached in memory only and
//     dropped at lock; nothing is written to a gallery, a downloads folder
//     or a cache directory;
//   - the one way out of the vault is ExportForPlatform, which the UI offers
//     only after warning the user, for types Rounds cannot show itself.

// AttachmentKind says how the viewer can show an attachment.
type AttachmentKind int

const (
	// AttachmentOther is shown as name, type and size; opening it means
	// handing it to another app (ExportForPlatform).
	AttachmentOther AttachmentKind = iota
	// AttachmentImage is a JPEG, PNG or GIF: thumbnail and full-size viewer.
	AttachmentImage
	// AttachmentPDF: page-1 preview where a renderer exists (PDFPreview),
	// otherwise as AttachmentOther.
	AttachmentPDF
)

// AttachmentRow is one attachment of a MessageRow.
type AttachmentRow struct {
	ID   string
	Name string // the sender's file name (ours when we sent it); untrusted text
	MIME string
	// Size in bytes: as the sender declared it (XEP-0446 metadata, checked
	// on download) for an incoming file not downloaded yet; 0 when the
	// sender's client declared none.
	Size int64
	// Downloaded: the plaintext is in this device's vault (always true for
	// files sent from here).
	Downloaded bool
	Kind       AttachmentKind
	// Unencrypted: the file came as a plain https:// link (another
	// client's upload without file encryption), so it sat on the upload
	// server in clear. The thread says so with UnencryptedFileNote.
	Unencrypted bool
}

// What the thread says of a file that came unencrypted, so a nurse knows it
// was readable on the server: the label beside the file, and the sentence
// where there is room (the viewer, the export's reviewer).
const (
	UnencryptedFileLabel = "Not encrypted"
	UnencryptedFileNote  = "Not encrypted: this file was stored on the server in clear"
)

// AttachOptions shape SendFile.
type AttachOptions struct {
	// Original sends a picture byte for byte, metadata and all (the user
	// chose "send original"); otherwise it is shrunk and re-encoded.
	Original bool
}

// MaxImageSide is the longest side, in pixels, of a picture sent without
// Original: enough to read a wound's edge or an ECG strip's grid on any
// phone, a tenth of the bytes of a camera original.
const MaxImageSide = 2048

const (
	// thumbCacheEntries bounds the in-memory thumbnail cache.
	thumbCacheEntries = 128
	// pdfRenderTimeout bounds the page-1 renderer.
	pdfRenderTimeout = 20 * time.Second
)

var (
	// ErrNoSuchAttachment: the id names no attachment on this device (or its
	// message was purged by retention).
	ErrNoSuchAttachment = errors.New("this attachment is no longer on this device")
	// ErrNotDownloaded: the file is not in the vault yet; Download it first.
	ErrNotDownloaded = errors.New("this attachment has not been downloaded yet")
	// ErrAttachmentRecalled: the message was recalled and its key discarded.
	ErrAttachmentRecalled = errors.New("this attachment was recalled")
	// ErrNotImage: Thumbnail or ViewImage on something that is not a picture
	// Rounds can decode, or a picture whose data is damaged (media's).
	ErrNotImage = media.ErrNotImage
	// ErrImageTooLarge: the picture has too many pixels (or bytes) to shrink
	// on this device; the user may send it as the original (media's).
	ErrImageTooLarge = media.ErrImageTooLarge
	// ErrFileTypeMismatch: the file's content is not what its name says (a
	// ".jpg" that is a PDF); receivers would refuse it, so it is not sent.
	ErrFileTypeMismatch = errors.New("the file's content does not match its name; it was not sent")
	// ErrEmptyFile: nothing to send.
	ErrEmptyFile = errors.New("the file is empty")
	// ErrNoPDFPreview: no PDF renderer on this device (phones; desktops
	// without poppler-utils); show the document's details and offer
	// "Open with…" instead.
	ErrNoPDFPreview = media.ErrNoPDFPreview
	// ErrUploadTooLarge wraps sync's *TooLargeError for errors.Is.
	ErrUploadTooLarge = errors.New("the file is larger than the server accepts")
	// ErrNotConnected: an upload needs the server; it is not queued.
	ErrNotConnected = errors.New("not connected: the file was not sent")
)

// uploadLimit asks the server (once per sign-in) for the largest file it
// accepts and returns the largest plaintext that fits (the encrypted file
// is 16 bytes longer); 0 means the server names no limit. The UI shows it
// before the user picks a file. Offline it returns ErrNotConnected.
func (att *attachmentService) uploadLimit() (int64, error) {
	_, s, err := att.host.sess()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
	defer cancel()
	max, err := s.UploadLimit(ctx)
	if err != nil {
		return 0, attachErr(err)
	}
	if max > 16 {
		max -= 16
	}
	return max, nil
}

// send sends a file to conv: name is the user's file name (kept on this
// device and shown to the recipient's Rounds through the link's extension
// only; the server never sees it), r gives exactly size bytes. JPEG and PNG
// pictures are shrunk and re-encoded unless opts.Original. The upload runs
// in the caller's goroutine; cancel ctx to stop it (nothing is sent then,
// nothing is left in the vault). progress (may be nil) sees bytes uploaded
// out of the total, called often from this goroutine.
//
// Errors: ErrEmptyFile, ErrFileTypeMismatch, ErrImageTooLarge,
// ErrUploadTooLarge (as *UploadTooLargeError with the limit),
// ErrNotConnected, context.Canceled, or the upload's failure
// (*sync.HTTPStatusError ...). On any error no message exists.
func (att *attachmentService) send(ctx context.Context, conv, name string, r io.Reader, size int64, opts AttachOptions, progress func(done, total int64)) (securestore.MessageID, error) {
	_, s, err := att.host.sess()
	if err != nil {
		return 0, err
	}
	if size == 0 {
		return 0, ErrEmptyFile
	}
	if size < 0 {
		return 0, fmt.Errorf("%w: negative size", sync.ErrUploadSize)
	}
	att.host.Touch()
	name = cleanFileName(name)
	br := bufio.NewReaderSize(r, 4096)
	head, _ := br.Peek(512)
	mimeType, name, err := fileType(name, head)
	if err != nil {
		return 0, err
	}
	var src io.Reader = br
	if !opts.Original && (mimeType == "image/jpeg" || mimeType == "image/png") {
		data, err := readPicture(br, size)
		if err != nil {
			return 0, err
		}
		if data, err = media.Shrink(data, mimeType, MaxImageSide); err != nil {
			return 0, err
		}
		src, size = bytes.NewReader(data), int64(len(data))
	}
	m, _, err := s.Upload(ctx, conv, src, name, mimeType, size, sync.Progress(progress))
	if err != nil {
		return 0, attachErr(err)
	}
	att.changes.push(Change{Kind: ConversationChanged, Conversation: m.ConversationID})
	att.changes.push(Change{Kind: InboxChanged})
	return m.ID, nil
}

// UploadTooLargeError: the file is over the server's limit (Max, plaintext
// bytes). It matches ErrUploadTooLarge.
type UploadTooLargeError struct{ Size, Max int64 }

func (e *UploadTooLargeError) Error() string {
	return fmt.Sprintf("the file (%s) is larger than the server accepts (%s)", FormatSize(e.Size), FormatSize(e.Max))
}

// Is makes errors.Is(err, ErrUploadTooLarge) true.
func (e *UploadTooLargeError) Is(target error) bool { return target == ErrUploadTooLarge }

// attachErr turns sync's transfer errors into the app's.
func attachErr(err error) error {
	var tl *sync.TooLargeError
	switch {
	case errors.As(err, &tl):
		return &UploadTooLargeError{Size: max(tl.Size-16, 0), Max: max(tl.Max-16, 0)}
	case errors.Is(err, sync.ErrOffline):
		return ErrNotConnected
	case errors.Is(err, securestore.ErrNotFound):
		return ErrNoSuchAttachment
	}
	return mapErr(err)
}

// cleanFileName keeps the base name of a picked file, without path or
// control characters, bounded.
func cleanFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == "/" {
		name = "file"
	}
	if r := []rune(name); len(r) > 120 {
		ext := path.Ext(name)
		if len([]rune(ext)) > 10 {
			ext = ""
		}
		name = string(r[:120-len([]rune(ext))]) + ext
	}
	return name
}

// fileType decides a file's MIME type from its name and first bytes. A name
// whose type contradicts the content is refused (receivers judge by the same
// list, media's); content of a known type under a name without (or with an
// unknown) extension gets the type's extension, so the recipient (who
// learns the type from the link's extension only) sees it as what it is.
func fileType(name string, head []byte) (string, string, error) {
	declared := media.TypeByName(name)
	detected, contradicts := media.Contradicts(declared, head)
	switch {
	case contradicts && declared == "text/plain":
		return "", name, fmt.Errorf("%w (named text, content is binary)", ErrFileTypeMismatch)
	case contradicts:
		return "", name, fmt.Errorf("%w (named %s, content looks like %s)", ErrFileTypeMismatch, declared, detected)
	case declared != "":
		return declared, name, nil
	case media.HasSignature(detected):
		return detected, name + media.Extension(detected), nil
	}
	return "application/octet-stream", name, nil
}

// readPicture reads the size bytes of a picture to shrink into memory,
// refusing one larger than media.MaxImageBytes before reading it.
func readPicture(r io.Reader, size int64) ([]byte, error) {
	if size > media.MaxImageBytes {
		return nil, ErrImageTooLarge
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("%w: %v", sync.ErrUploadSize, err)
	}
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		return nil, fmt.Errorf("%w: more than %d bytes", sync.ErrUploadSize, size)
	}
	return data, nil
}

// download fetches an incoming attachment into the vault (verified and
// decrypted on the way; streamed, never whole in memory). Cancel ctx to
// stop: nothing half-written stays. A file already in the vault returns at
// once. progress (may be nil) sees bytes received out of the total (-1 when
// the server does not say).
func (att *attachmentService) download(ctx context.Context, attID string, progress func(done, total int64)) (AttachmentRow, error) {
	st, s, err := att.host.sess()
	if err != nil {
		return AttachmentRow{}, err
	}
	a, err := st.Attachment(attID)
	if err != nil {
		return AttachmentRow{}, attachErr(err)
	}
	if _, err := st.BlobSize(attID); err == nil {
		return attachmentRow(st, a), nil
	}
	if m, err := st.Message(a.MessageID); err == nil && m.Extra[sync.ExtraRetracted] != "" {
		return AttachmentRow{}, ErrAttachmentRecalled
	}
	att.host.Touch()
	a, err = s.Download(ctx, attID, sync.Progress(progress))
	if err != nil {
		return AttachmentRow{}, attachErr(err)
	}
	att.dropThumbnails(attID)
	if m, err := st.Message(a.MessageID); err == nil {
		att.changes.push(Change{Kind: ConversationChanged, Conversation: m.ConversationID})
	}
	return attachmentRow(st, a), nil
}

// open opens an attachment's plaintext from the vault (the only
// place it is read from); close it when done. One 64 KiB chunk is in memory
// at a time.
func (att *attachmentService) open(attID string) (io.ReadSeekCloser, AttachmentRow, error) {
	st, err := att.host.unlocked()
	if err != nil {
		return nil, AttachmentRow{}, err
	}
	a, err := st.Attachment(attID)
	if err != nil {
		return nil, AttachmentRow{}, attachErr(err)
	}
	r, err := st.OpenBlob(attID)
	if errors.Is(err, securestore.ErrNotFound) {
		return nil, AttachmentRow{}, ErrNotDownloaded
	} else if err != nil {
		return nil, AttachmentRow{}, mapErr(err)
	}
	att.host.Touch()
	return r, attachmentRow(st, a), nil
}

// read reads a whole attachment from the vault, up to limit bytes.
func (att *attachmentService) read(attID string, limit int64) ([]byte, AttachmentRow, error) {
	r, row, err := att.open(attID)
	if err != nil {
		return nil, row, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, row, mapErr(err)
	}
	if int64(len(data)) > limit {
		return nil, row, ErrImageTooLarge
	}
	return data, row, nil
}

// thumbnail decodes a picture from the vault, upright, scaled to fit in
// maxPx×maxPx. Thumbnails are cached in memory (never on disk) until the
// app locks, the file is recalled, or retention purges it.
func (att *attachmentService) thumbnail(attID string, maxPx int) (image.Image, error) {
	if maxPx <= 0 {
		maxPx = 256
	}
	st, err := att.host.unlocked()
	if err != nil {
		return nil, err
	}
	if _, err := st.BlobSize(attID); err != nil {
		// Gone from the vault (recall, purge) or not downloaded yet: a cached
		// thumbnail must not outlive the file.
		att.dropThumbnails(attID)
		if errors.Is(err, securestore.ErrNotFound) {
			return nil, ErrNotDownloaded
		}
		return nil, mapErr(err)
	}
	cache := &att.thumbs
	key := thumbKey{st: st, id: attID, px: maxPx}
	if img := cache.get(key); img != nil {
		return img, nil
	}
	img, o, err := att.decode(attID)
	if err != nil {
		return nil, err
	}
	img = media.Upright(media.Fit(img, maxPx), o)
	cache.put(key, img)
	return img, nil
}

// viewImage decodes a picture from the vault at full size, upright, for the
// viewer. It is not cached.
func (att *attachmentService) viewImage(attID string) (image.Image, error) {
	img, o, err := att.decode(attID)
	if err != nil {
		return nil, err
	}
	return media.Upright(img, o), nil
}

func (att *attachmentService) decode(attID string) (image.Image, int, error) {
	data, row, err := att.read(attID, media.MaxImageBytes)
	if err != nil {
		return nil, 1, err
	}
	if row.Kind != AttachmentImage {
		return nil, 1, ErrNotImage
	}
	return media.Decode(data)
}

// pdfPreview renders page 1 of a PDF from the vault, fitting maxPx×maxPx,
// with poppler's pdftoppm where it is installed (media.RenderPDFPage: the
// document never touches the disk). Elsewhere (phones, Windows, macOS
// without poppler) it returns ErrNoPDFPreview and the viewer shows the
// document's details with "Open with…".
func (att *attachmentService) pdfPreview(attID string, maxPx int) (image.Image, error) {
	if maxPx <= 0 {
		maxPx = 1024
	}
	tool := pdfRenderer()
	if tool == "" {
		return nil, ErrNoPDFPreview
	}
	r, row, err := att.open(attID)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if row.Kind != AttachmentPDF {
		return nil, fmt.Errorf("%w: not a PDF", ErrNoPDFPreview)
	}
	ctx, cancel := context.WithTimeout(context.Background(), pdfRenderTimeout)
	defer cancel()
	return media.RenderPDFPage(ctx, tool, r, maxPx)
}

// pdfRenderer is the path of pdftoppm, or "" where there is none. A
// variable so tests can take it away.
var pdfRenderer = media.PDFRenderer

// exportForPlatform copies an attachment OUT OF THE VAULT, in clear, into a
// new private temporary directory (0700, the file 0600, named
// "attachment" + the file's extension, never the sender's file name), so
// another app can open a type Rounds cannot show. This is the one place
// plaintext leaves the encrypted vault: the UI calls it only after the
// user was warned. The directory goes when cleanup is called, after
// exportLife, or at Lock, SignOut or wipe, whichever is first (exportsweep.go). The app it is handed to may keep its own
// copy; Rounds cannot stop that.
func (att *attachmentService) exportForPlatform(attID string) (string, func(), error) {
	r, row, err := att.open(attID)
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	dir, cleanup, err := att.exportDir()
	if err != nil {
		return "", nil, fmt.Errorf("app: export: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("app: export: %w", err)
	}
	ext := strings.ToLower(path.Ext(row.Name))
	if len(ext) > 10 || strings.ContainsAny(ext, `/\ `) {
		ext = ""
	}
	p := filepath.Join(dir, "attachment"+ext)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("app: export: %w", err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("app: export: %w", mapErr(err))
	}
	att.log.Info("app: attachment exported for another app") // no name, no path
	att.host.audit(securestore.AuditExport, "attachment handed to another app (left the vault)")
	return p, cleanup, nil
}

// rows fills a view row's attachments from its message. The
// message body of a file is its aesgcm:// link, which carries the file's
// key: it is never shown, the row's Body becomes empty.
func (att *attachmentService) rows(st *securestore.Store, m securestore.Message, r *MessageRow) {
	if m.Extra[sync.ExtraAttachment] == "" && m.Extra[sync.ExtraAttachmentURL] == "" || m.Extra[sync.ExtraRetracted] != "" {
		return // a recalled message's files are gone (recall.go discards them)
	}
	atts, err := st.Attachments(m.ID)
	if err == nil && len(atts) == 0 && m.Extra[sync.ExtraAttachmentURL] != "" {
		if _, s := att.host.openSession(); s != nil {
			atts, err = s.Attachments(m)
		}
	}
	if err != nil {
		att.log.Warn("app: reading attachments", "err", err)
	}
	for _, a := range atts {
		r.Attachments = append(r.Attachments, attachmentRow(st, a))
	}
	if strings.TrimSpace(r.Body) == strings.TrimSpace(m.Body) && (len(atts) > 0 || isLink(m.Body)) {
		r.Body = ""
	}
}

func isLink(s string) bool {
	s = strings.TrimSpace(s)
	return !strings.ContainsAny(s, " \n") && (strings.HasPrefix(s, "aesgcm://") || strings.HasPrefix(s, "https://"))
}

// attachmentPreview is the inbox preview of a message sharing a file
// ("Photo", "PDF: Potassium result.pdf"), "" for other messages.
func attachmentPreview(st *securestore.Store, m securestore.Message) string {
	if m.Extra[sync.ExtraAttachment] == "" && m.Extra[sync.ExtraAttachmentURL] == "" {
		return ""
	}
	if atts, err := st.Attachments(m.ID); err == nil && len(atts) > 0 {
		a := attachmentRow(st, atts[0])
		switch a.Kind {
		case AttachmentImage:
			return "Photo"
		case AttachmentPDF:
			return previewText("PDF: " + a.Name)
		}
		return previewText("File: " + a.Name)
	}
	return "Attachment"
}

func attachmentRow(st *securestore.Store, a securestore.Attachment) AttachmentRow {
	row := AttachmentRow{ID: a.ID, Name: a.Name, MIME: a.MIME, Size: a.Size, Kind: kindOf(a.MIME)}
	if m, err := st.Message(a.MessageID); err == nil {
		row.Unencrypted = inClear(m, a)
	}
	if n, err := st.BlobSize(a.ID); err == nil {
		row.Downloaded, row.Size = true, n
	}
	return row
}

// inClear: the file came as a plain https:// link. The engine marks such
// messages on arrival; a message stored before it did is recognised by its
// link (no key, https), unless it was recalled (recall drops the key of
// our own encrypted files too).
func inClear(m securestore.Message, a securestore.Attachment) bool {
	if m.Extra[sync.ExtraAttachmentInClear] != "" {
		return true
	}
	return m.Extra[sync.ExtraRetracted] == "" && m.Direction == securestore.Incoming &&
		len(a.Key) == 0 && strings.HasPrefix(strings.ToLower(a.URL), "https://")
}

func kindOf(mimeType string) AttachmentKind {
	switch strings.ToLower(mimeType) {
	case "image/jpeg", "image/jpg", "image/png", "image/gif":
		return AttachmentImage
	case "application/pdf":
		return AttachmentPDF
	}
	return AttachmentOther
}

// FormatSize is a byte count for people: "820 KB", "4.2 MB".
func FormatSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1000*1000:
		return fmt.Sprintf("%d KB", (n+500)/1000)
	case n < 10*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%d MB", (n+500_000)/1_000_000)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

// attachmentService is the attachments concern: sending, downloading,
// showing and handing to another app the files shared in conversations
// (the methods above), the plaintext copies handed out (exportCopies,
// exportsweep.go) and the thumbnail cache. Each of the two holds its own
// lock (copies.mu, thumbs.mu), never Client.mu and never held while
// calling the host; the rest of its fields are set once by newClient. It
// reaches the rest of the Client only through attachmentHost, whose
// methods take Client.mu, so none of its methods may be called with
// Client.mu held. Thumbnails are memory only, bounded, emptied at lock:
// entries are keyed by the open store, and dropThumbnails runs from halt.
type attachmentService struct {
	log     *slog.Logger
	clock   Clock
	changes *changeQueue // the Client's: a sent or downloaded file changes its conversation
	host    attachmentHost

	copies exportCopies
	thumbs thumbCache
}

// attachmentHost is what the attachments service needs from the rest of
// the Client, by concern.
type attachmentHost interface {
	// The session (client.go): the open store, with its Session or
	// ErrLocked; the Session as it is now (nil when signed out or locked);
	// activity, which defers auto-lock (lock.go).
	sess() (*securestore.Store, *sync.Session, error)
	unlocked() (*securestore.Store, error)
	openSession() (*securestore.Store, *sync.Session)
	Touch()
	// The audit log (audit.go): a copy handed to another app.
	audit(kind, detail string)
}

type thumbKey struct {
	st *securestore.Store
	id string
	px int
}

type thumbCache struct {
	mu    gosync.Mutex
	items map[thumbKey]image.Image
	order []thumbKey
}

func (t *thumbCache) get(k thumbKey) image.Image {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.items[k]
}

func (t *thumbCache) put(k thumbKey, img image.Image) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.items == nil {
		t.items = map[thumbKey]image.Image{}
	}
	if _, ok := t.items[k]; !ok {
		t.order = append(t.order, k)
	}
	t.items[k] = img
	for len(t.order) > thumbCacheEntries {
		delete(t.items, t.order[0])
		t.order = t.order[1:]
	}
}

// dropThumbnails forgets cached thumbnails: of the given attachments, or
// all of them when none is named.
func (att *attachmentService) dropThumbnails(ids ...string) { att.thumbs.drop(ids...) }

func (t *thumbCache) drop(ids ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(ids) == 0 {
		clear(t.items)
		t.order = nil
		return
	}
	keep := t.order[:0]
	for _, k := range t.order {
		drop := false
		for _, id := range ids {
			drop = drop || k.id == id
		}
		if drop {
			delete(t.items, k)
		} else {
			keep = append(keep, k)
		}
	}
	t.order = keep
}

// cachedThumbnails counts the thumbnails held in memory (tests).
func (att *attachmentService) cachedThumbnails() int {
	t := &att.thumbs
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.items)
}

// discard forgets a recalled message's attachments on this
// device: the vault copy and the download key (also the key inside the
// stored link), so nothing here can decrypt the uploaded file any more.
// XEP-0363 has no delete: the encrypted file stays on the upload server
// until its own expiry (docs/ADMIN.md).
func (att *attachmentService) discard(st *securestore.Store, s *sync.Session, id securestore.MessageID) {
	m, err := st.Message(id)
	if err != nil {
		return
	}
	// The stored records only: sync's Attachments would make a record
	// from the link again.
	as, err := st.Attachments(id)
	if err != nil {
		att.log.Warn("app: listing a recalled message's attachments", "err", err)
	}
	for _, a := range as {
		att.dropThumbnails(a.ID) // decoded pictures in memory (attachments.go)
		if s != nil {
			err = s.ForgetAttachment(a.ID)
		} else {
			clear(a.Key)
			a.Key, a.URL = nil, ""
			err = st.PutAttachment(a)
		}
		if err != nil {
			att.log.Warn("app: discarding an attachment key", "err", err)
		}
	}
	// The link itself carries the key (aesgcm://…#key) and outlives the
	// store's retraction: drop it.
	if m.Extra[sync.ExtraAttachmentURL] != "" {
		if err := st.UpdateExtra(id, map[string]string{sync.ExtraAttachmentURL: ""}); err != nil {
			att.log.Warn("app: discarding an attachment link", "err", err)
		}
	}
	if len(as) > 0 {
		att.log.Info("app: attachments of a recalled message discarded", "count", len(as))
	}
}
