// Package media reads what people share in a conversation: it tells a file's
// type from its name and its first bytes, and decodes, turns upright and
// shrinks pictures. The app uses it before a file is sent and the engine
// after one is received, so sender and receiver judge a file by the same list
// of types. It imports nothing of ours, touches no disk and no network:
// bytes in, a type or pixels out.
package media

import (
	"mime"
	"net/http"
	"path"
	"strings"
)

// signatures are the types http.DetectContentType recognises by a reliable
// signature: a file declared or named as one of them must look like it.
var signatures = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/bmp": true,
	"application/pdf": true, "audio/mpeg": true, "audio/wave": true, "audio/ogg": true,
	"video/mp4": true, "video/webm": true, "application/zip": true, "application/x-gzip": true,
}

// HasSignature reports whether content of type t can be recognised by its
// first bytes.
func HasSignature(t string) bool { return signatures[Normalize(t)] }

// Normalize lower-cases a type, drops its parameters and reads the common
// misspelling image/jpg as image/jpeg.
func Normalize(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	if t == "image/jpg" {
		t = "image/jpeg"
	}
	return t
}

// Detect is the type content looks like from its first bytes (512 suffice),
// without parameters.
func Detect(head []byte) string {
	t := http.DetectContentType(head)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return t
}

// TypeByName is the type a file name's extension says, without parameters;
// "" when the name has no extension or an unknown one.
func TypeByName(name string) string {
	t := mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return t
}

// Contradicts reports whether content beginning with head is not what the
// declared type says: a type with a signature whose content looks like
// something else (an "image/jpeg" that is HTML, a PDF that is a ZIP), or
// text/plain that is binary. Types without a signature are not judged.
// detected is what the content looks like.
func Contradicts(declared string, head []byte) (detected string, contradicts bool) {
	decl := Normalize(declared)
	detected = Detect(head)
	switch {
	case signatures[decl]:
		return detected, detected != decl
	case decl == "text/plain":
		return detected, detected != "text/plain"
	}
	return detected, false
}

// Extension is the file extension for type t (".jpg" for JPEG, the first
// the system knows otherwise), "" when none is known.
func Extension(t string) string {
	if Normalize(t) == "image/jpeg" {
		return ".jpg"
	}
	if exts, _ := mime.ExtensionsByType(t); len(exts) > 0 {
		return exts[0]
	}
	return ""
}
