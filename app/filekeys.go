package app

import "regexp"

// An aesgcm:// link (XEP-0454) carries the file's key in its fragment. A
// message that shares a file is shown as the file, never as its link; a link
// pasted into a text is still a key, so wherever text leaves the encrypted
// store (an OS notification, an export) the fragment is cut first.
var aesgcmFragment = regexp.MustCompile(`(?i)(aesgcm://[^\s#]*)#[0-9a-f]*`)

// withoutFileKeys replaces the key fragment of every aesgcm:// link in s.
func withoutFileKeys(s string) string {
	return aesgcmFragment.ReplaceAllString(s, "$1#(key removed)")
}
