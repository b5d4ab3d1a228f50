package xmpp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// XEP-0446 File metadata element: <file xmlns='urn:xmpp:file:metadata:0'>
// with <media-type/>, <name/>, <size/>, <width/>, <height/> and XEP-0300
// <hash xmlns='urn:xmpp:hashes:2' algo='sha-256'/> children. A message that
// shares a file carries it beside the link, so the receiver can show the
// file's real name, type and size before downloading it, and check the
// download against them. The upload URL keeps its random name: the HTTP
// server never learns what the file is called.
//
// Everything in it comes from the sender and is checked strictly: a name
// that could be read as a path, a size beyond any file we would fetch, or a
// malformed hash makes the whole element unusable (ErrFileMetadata), and the
// message is shown with what its link says instead.

const (
	NSFileMetadata = "urn:xmpp:file:metadata:0"
	NSHashes       = "urn:xmpp:hashes:2"
	// NSSFS is XEP-0447 Stateless file sharing, whose <file-sharing/> wraps
	// the same <file/> element; we read it there too.
	NSSFS = "urn:xmpp:sfs:0"
)

// Bounds of a file metadata element.
const (
	// MaxFileNameBytes is the longest name accepted (the common file-system
	// limit).
	MaxFileNameBytes = 255
	// MaxFileMetadataSize is the largest size accepted: far beyond any
	// upload service's limit, small enough that size+16 never overflows.
	MaxFileMetadataSize int64 = 1 << 40
	// maxMediaTypeBytes bounds <media-type/>; maxImageSide <width/>/<height/>.
	maxMediaTypeBytes = 255
	maxImageSide      = 1 << 16
)

// ErrFileMetadata is wrapped by every refusal of ParseFileMetadata. Its
// messages say which part was wrong, never the file's name.
var ErrFileMetadata = errors.New("xmpp: bad file metadata")

// FileMetadata is a parsed <file/> element. Absent parts are zero, except
// Size, which is -1 when not given (0 is an empty file).
type FileMetadata struct {
	MediaType     string // lower-case type/subtype, parameters dropped
	Name          string
	Size          int64
	Width, Height int
	SHA256        []byte // 32 bytes, or nil
}

// Element builds the <file/> element (the parts that are set).
func (f FileMetadata) Element() *Element {
	el := NewElement(NSFileMetadata, "file")
	if f.MediaType != "" {
		el.Append(NewElement(NSFileMetadata, "media-type").SetText(f.MediaType))
	}
	if f.Name != "" {
		el.Append(NewElement(NSFileMetadata, "name").SetText(f.Name))
	}
	if f.Size >= 0 {
		el.Append(NewElement(NSFileMetadata, "size").SetText(strconv.FormatInt(f.Size, 10)))
	}
	if f.Width > 0 {
		el.Append(NewElement(NSFileMetadata, "width").SetText(strconv.Itoa(f.Width)))
	}
	if f.Height > 0 {
		el.Append(NewElement(NSFileMetadata, "height").SetText(strconv.Itoa(f.Height)))
	}
	if len(f.SHA256) > 0 {
		el.Append(NewElement(NSHashes, "hash", "algo", "sha-256").SetText(base64.StdEncoding.EncodeToString(f.SHA256)))
	}
	return el
}

// FindFileMetadata returns the <file/> element of a message: a direct child,
// or inside an XEP-0447 <file-sharing/>. nil when there is none; an error
// when there are several (which file would they describe?).
func FindFileMetadata(msg *Element) (*Element, error) {
	var found []*Element
	found = append(found, msg.ChildrenNamed(NSFileMetadata, "file")...)
	for _, fs := range msg.ChildrenNamed(NSSFS, "file-sharing") {
		found = append(found, fs.ChildrenNamed(NSFileMetadata, "file")...)
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%w: %d <file/> elements on one message", ErrFileMetadata, len(found))
}

// DecodeFileMetadata parses a serialized <file/> element (fixtures, and
// the copy kept with a stored message).
func DecodeFileMetadata(raw []byte) (FileMetadata, error) {
	el, err := DecodeElement(bytes.TrimSpace(raw), Limits{})
	if err != nil {
		return FileMetadata{}, fmt.Errorf("%w: %v", ErrFileMetadata, err)
	}
	return ParseFileMetadata(el)
}

// ParseFileMetadata reads a <file/> element strictly: each part at most
// once, a safe name, a media type that parses, decimal sizes within bounds,
// a SHA-256 of exactly 32 bytes. Unknown children (date, desc, length,
// thumbnail, other hash algorithms) are ignored.
func ParseFileMetadata(el *Element) (FileMetadata, error) {
	f := FileMetadata{Size: -1}
	bad := func(format string, a ...any) (FileMetadata, error) {
		return FileMetadata{}, fmt.Errorf("%w: "+format, append([]any{ErrFileMetadata}, a...)...)
	}
	if el == nil || el.Name.Space != NSFileMetadata || el.Name.Local != "file" {
		return bad("not a %s <file/> element", NSFileMetadata)
	}
	seen := map[string]bool{}
	for _, c := range el.Children {
		switch c.Name.Space {
		case NSFileMetadata:
			switch c.Name.Local {
			case "media-type", "name", "size", "width", "height":
			default:
				continue
			}
			if seen[c.Name.Local] {
				return bad("<%s>: given twice", c.Name.Local)
			}
			seen[c.Name.Local] = true
			if len(c.Children) > 0 {
				return bad("<%s>: has child elements", c.Name.Local)
			}
			var err error
			switch c.Name.Local {
			case "media-type":
				f.MediaType, err = parseMediaType(c.Text)
			case "name":
				err = CheckFileName(c.Text)
				f.Name = c.Text
			case "size":
				f.Size, err = parseBounded(c.Text, MaxFileMetadataSize)
			case "width":
				var n int64
				n, err = parseBounded(c.Text, maxImageSide)
				f.Width = int(n)
			case "height":
				var n int64
				n, err = parseBounded(c.Text, maxImageSide)
				f.Height = int(n)
			}
			if err != nil {
				return bad("<%s>: %v", c.Name.Local, err)
			}
		case NSHashes:
			if c.Name.Local != "hash" || c.Attr("algo") != "sha-256" {
				continue
			}
			if f.SHA256 != nil {
				return bad("<hash algo='sha-256'>: given twice")
			}
			sum, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(c.Text))
			if err != nil {
				return bad("<hash algo='sha-256'>: not base64")
			}
			if len(sum) != 32 {
				return bad("<hash algo='sha-256'>: %d bytes, want 32", len(sum))
			}
			f.SHA256 = sum
		}
	}
	return f, nil
}

// CheckFileName reports why name cannot be shown or saved as a file name
// as it is: empty, longer than MaxFileNameBytes, not UTF-8, "." or "..",
// a path separator (/ \ :), a control character, or a bidirectional
// override that can make "report‮fdp.exe" read as "report.exe.pdf". The
// error never repeats the name.
func CheckFileName(name string) error {
	switch {
	case name == "":
		return errors.New("empty")
	case len(name) > MaxFileNameBytes:
		return fmt.Errorf("%d bytes, more than %d", len(name), MaxFileNameBytes)
	case !utf8.ValidString(name):
		return errors.New("not UTF-8")
	case name == "." || name == "..":
		return errors.New("is a directory reference")
	case strings.TrimSpace(name) != name:
		return errors.New("starts or ends with white space")
	}
	for _, r := range name {
		switch {
		case r == '/' || r == '\\' || r == ':':
			return errors.New("contains a path separator")
		case unicode.IsControl(r):
			return errors.New("contains a control character")
		case unicode.Is(unicode.Bidi_Control, r):
			return errors.New("contains a bidirectional control character")
		}
	}
	return nil
}

func parseMediaType(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty")
	}
	if len(s) > maxMediaTypeBytes {
		return "", fmt.Errorf("%d bytes, more than %d", len(s), maxMediaTypeBytes)
	}
	t, _, err := mime.ParseMediaType(s)
	if err != nil || strings.Count(t, "/") != 1 || strings.HasPrefix(t, "/") || strings.HasSuffix(t, "/") {
		return "", errors.New("not a type/subtype media type")
	}
	return t, nil
}

// parseBounded reads a decimal whole number 0..max (white space around it
// allowed, no sign).
func parseBounded(s string, max int64) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 19 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("not a whole number")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > max {
		return 0, fmt.Errorf("outside 0..%d", max)
	}
	return n, nil
}
