package cli

import (
	"context"
	"errors"
	"io"
	"time"

	"rounds/securestore"
	"rounds/sync"
	"rounds/sync/xmpp"
)

// Placeholders until the sync engine's clinical API lands.

func sendOptions(u securestore.Urgency, ack, order bool, role string) sync.SendOptions {
	return sync.SendOptions{Urgency: u}
}

func ackRequired(o sync.SendOptions) bool { return o.Urgency != securestore.UrgencyNormal }

func declined(events []sync.Event, m securestore.Message) (outcome, bool) { return outcome{}, false }

func fetchSchedule(ctx context.Context, b *bot) ([]shift, error) { return nil, errNoClinical }

func orderRecipients(ctx context.Context, b *bot, now time.Time) ([]string, error) {
	return nil, errNoClinical
}

func checkSchedulePayload(el *xmpp.Element) error { return nil }

func decodePolicy(data []byte) (*xmpp.Element, error) { return nil, errNoClinical }

func publish(ctx context.Context, b *bot, node string, payload *xmpp.Element, timeout time.Duration) error {
	return errNoClinical
}

func sendWipe(ctx context.Context, b *bot, to string, timeout time.Duration) error {
	return errNoClinical
}

var errAuditTampered = errors.New("tampered")

func verifyAuditExport(r io.Reader) error { return errNoClinical }
