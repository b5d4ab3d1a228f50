package app

import (
	"context"
	"image"
	"io"

	"rounds/securestore"
)

// The Client's side of the attachments service (attachmentService,
// attachments.go): the facade the screens call, and the two the lifecycle
// calls (client.go, locked.go). What the service asks of the rest of the
// Client (attachmentHost) Client already has: sess, unlocked, openSession
// (client.go), Touch (lock.go), audit (audit.go).

// UploadLimit is the largest file the server accepts, in plaintext bytes
// (0: no limit); see attachmentService.uploadLimit.
func (c *Client) UploadLimit() (int64, error) { return c.att.uploadLimit() }

// SendFile sends a file to conv, a picture shrunk and re-encoded unless
// opts.Original; see attachmentService.send for the errors.
func (c *Client) SendFile(ctx context.Context, conv, name string, r io.Reader, size int64, opts AttachOptions, progress func(done, total int64)) (securestore.MessageID, error) {
	return c.att.send(ctx, conv, name, r, size, opts, progress)
}

// Download fetches an incoming attachment into the vault; see
// attachmentService.download.
func (c *Client) Download(ctx context.Context, attID string, progress func(done, total int64)) (AttachmentRow, error) {
	return c.att.download(ctx, attID, progress)
}

// OpenAttachment opens an attachment's plaintext from the vault; close it
// when done.
func (c *Client) OpenAttachment(attID string) (io.ReadSeekCloser, AttachmentRow, error) {
	return c.att.open(attID)
}

// Thumbnail is a picture from the vault, upright, fitting maxPx×maxPx,
// cached in memory until lock.
func (c *Client) Thumbnail(attID string, maxPx int) (image.Image, error) {
	return c.att.thumbnail(attID, maxPx)
}

// ViewImage is a picture from the vault at full size, upright.
func (c *Client) ViewImage(attID string) (image.Image, error) { return c.att.viewImage(attID) }

// PDFPreview is page 1 of a PDF from the vault, or ErrNoPDFPreview where
// the device has no renderer.
func (c *Client) PDFPreview(attID string, maxPx int) (image.Image, error) {
	return c.att.pdfPreview(attID, maxPx)
}

// ExportForPlatform copies an attachment out of the vault, in clear, for
// another app; the UI calls it only after warning the user. See
// attachmentService.exportForPlatform.
func (c *Client) ExportForPlatform(attID string) (string, func(), error) {
	return c.att.exportForPlatform(attID)
}

// dropThumbnails forgets cached thumbnails (all of them when none is
// named); halt calls it.
func (c *Client) dropThumbnails(ids ...string) { c.att.dropThumbnails(ids...) }

// removeExports deletes every copy handed to another app (Lock, SignOut,
// wipe).
func (c *Client) removeExports() { c.att.removeExports() }
