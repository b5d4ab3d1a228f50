package app

import (
	"errors"
	"strings"
	"testing"
	"time"

	"rounds/sync"
)

// TestCheckNamesScratchNodeLeftBehind: when the check could create a
// scratch node but not delete it again, the report names the node left on
// the service and how to remove it, besides the FAIL for open creation.
func TestCheckNamesScratchNodeLeftBehind(t *testing.T) {
	f := &sync.ServerFacts{PubSubService: "pubsub.hospital.example", CreatedNode: true,
		LeftNode: "urn:rounds:check:0a1b2c", DeleteNodeErr: errors.New("xmpp: stanza error cancel/forbidden"),
		Nodes: map[string]sync.Event{}, NodeErrs: map[string]error{}}
	var says []string
	for _, fd := range nodeFindings(f, "rounds.check@hospital.example", time.Now()) {
		says = append(says, fd.Status.String()+" "+fd.Says+" "+fd.Fix)
	}
	all := strings.Join(says, "\n")
	if !strings.Contains(all, "FAIL rounds.check@hospital.example could create a node") ||
		!strings.Contains(all, "warn the check's scratch node urn:rounds:check:0a1b2c could not be deleted from pubsub.hospital.example") {
		t.Fatalf("findings:\n%s", all)
	}
}

// TestCheckSaysWhereTheUploadProbeWent: the check's upload leaves a small
// file behind unless the server took a DELETE (XEP-0363 has none; Prosody
// 0.12 and ejabberd 23.01 refuse it, as cli's deployment tests show); the ok
// line says which, so an admin is not surprised by a file per run.
func TestCheckSaysWhereTheUploadProbeWent(t *testing.T) {
	f := &sync.ServerFacts{UploadService: "upload.hospital.example", UploadMax: 20 << 20, UploadPutURL: "https://chat.hospital.example/upload/0f1e/rounds-check.txt",
		UploadPut: 201, UploadGet: 200, UploadSame: true, UploadSize: 37}
	if got := uploadFinding(f); got.Status != CheckOK || !strings.HasSuffix(got.Says, "came back through https://chat.hospital.example/, it (37 bytes, no patient data) stays on the upload service until its expiry: the server refuses deletes") {
		t.Errorf("kept: %s %s", got.Status, got.Says)
	}
	f.UploadDeleted = true
	if got := uploadFinding(f); got.Status != CheckOK || !strings.HasSuffix(got.Says, "came back through https://chat.hospital.example/, deleted again") || strings.Contains(got.Says, "0f1e") {
		t.Errorf("deleted: %s %s", got.Status, got.Says)
	}
}
