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
