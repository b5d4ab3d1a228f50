package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"rounds/app"
)

// TestUnencryptedFileAndTextAckShown: a file that came unencrypted says so
// in its cell, first (a narrow cell's ellipsis cuts the end); a page
// acknowledged by a text reply says how under the message.
func TestUnencryptedFileAndTextAckShown(t *testing.T) {
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

	at := fixedNow.Add(-time.Minute)
	page := app.MessageRow{ID: 30, Outgoing: true, AckRequired: true, Urgency: app.UrgencyCritical, Body: "K+ 6.9",
		Receipt:   receipt(app.ReceiptAcknowledged, at),
		Responses: []app.ResponseRow{{From: "Nurse Kim", Kind: app.ResponseAck, Text: "ack", At: at, ByText: true}}}
	lines := statusLines(page, "Nurse Kim", false)
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "Acknowledged ") || !strings.HasSuffix(lines[0], " by Nurse Kim (by text reply)") {
		t.Errorf("status lines %q", lines)
	}
	page.Responses[0].ByText = false
	if lines := statusLines(page, "Nurse Kim", false); strings.Contains(strings.Join(lines, "\n"), "text reply") {
		t.Errorf("a Rounds acknowledgement said text reply: %q", lines)
	}
}
