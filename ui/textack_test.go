package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"rounds/app"
)

// TestUnencryptedFileShown: a file that came unencrypted says so in its
// cell, first (a narrow cell's ellipsis cuts the end). (That a page
// acknowledged by a text reply says how is app's TestStatusLinesTextAck.)
func TestUnencryptedFileShown(t *testing.T) {
	rows := fileMessages()
	rows[4].Attachments[0].Unencrypted = true
	v, _, _ := openFiles(t, rows, fyne.NewSize(420, 700))
	c := cellFor(v, "m25")
	if c == nil {
		t.Fatal("no cell for the file")
	}
	if got := c.detail.Text; !strings.HasPrefix(got, app.UnencryptedFileLabel+" · ") {
		t.Errorf("unencrypted file's detail %q", got)
	}
	if got := cellFor(v, "m23").detail.Text; strings.Contains(got, app.UnencryptedFileLabel) {
		t.Errorf("encrypted file's detail %q", got)
	}

}
