package sync

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"rounds/internal/testserver"
	"rounds/securestore"
)

// TestResponseResolvedBeforeItsBatch: a device that catches up on a page
// and its acknowledgement (sent from the user's other device) in one archive
// batch gets the acknowledgement's ResponseReceived, naming the page, before
// the MessagesAdded of that batch. The app records responses only from this
// event (it resolves nothing itself), so by the time it decides whether the
// batch's page alerts, the page is already acknowledged.
func TestResponseResolvedBeforeItsBatch(t *testing.T) {
	srv := testserver.StartT(t, testserver.Options{NoOffline: true}, "alice", "bob")
	alice := startDevice(t, srv, "alice", deviceOptions{resource: "phone"})
	phone := startDevice(t, srv, "bob", deviceOptions{resource: "phone"})
	tabletPath := filepath.Join(t.TempDir(), "bob-tablet.db")
	tablet := startDevice(t, srv, "bob", deviceOptions{resource: "tablet", storePath: tabletPath})
	tablet.stop()

	page, err := alice.session.Send(phone.jid, "K+ 6.9, bed 12", SendOptions{Urgency: securestore.UrgencyCritical})
	if err != nil {
		t.Fatal(err)
	}
	onPhone := byOrigin(t, phone, alice.jid, page.OriginID)
	ack, err := phone.session.Respond(context.Background(), alice.jid, onPhone.ID, ResponseAck, "")
	if err != nil {
		t.Fatal(err)
	}
	alice.waitFor("acknowledged", 30*time.Second, func() bool {
		return alice.receiptState(page.ID) == securestore.ReceiptAcknowledged
	})

	tablet = startDevice(t, srv, "bob", deviceOptions{resource: "tablet", storePath: tabletPath})
	onTablet := byOrigin(t, tablet, alice.jid, page.OriginID)
	tablet.waitFor("the acknowledgement's ResponseReceived", 30*time.Second, func() bool {
		return len(eventsOf[ResponseReceived](tablet)) > 0
	})
	tablet.mu.Lock()
	events := slices.Clone(tablet.events)
	tablet.mu.Unlock()
	response, added := -1, -1
	var respID securestore.MessageID
	for i, e := range events {
		switch e := e.(type) {
		case ResponseReceived:
			if response < 0 && e.Kind == ResponseAck && e.Message.OriginID == ack.OriginID {
				response, respID = i, e.Message.ID
				if e.To != onTablet.ID || !e.Own {
					t.Errorf("ResponseReceived %+v, want To %d (the page) and Own", e, onTablet.ID)
				}
			}
		case MessagesAdded:
			for _, m := range e.Messages {
				if added < 0 && m.OriginID == ack.OriginID {
					added = i
					if !slices.ContainsFunc(e.Messages, func(m securestore.Message) bool { return m.ID == onTablet.ID }) {
						t.Logf("the page and its acknowledgement came in different batches")
					}
				}
			}
		}
	}
	if response < 0 || added < 0 {
		t.Fatalf("events: ResponseReceived at %d, MessagesAdded of the response at %d", response, added)
	}
	if response > added {
		t.Fatalf("ResponseReceived (event %d) came after the MessagesAdded that stored response %d (event %d)", response, respID, added)
	}
}
