// Package sync will keep securestore in step with the server: session lifecycle,
// outbox, MAM catch-up, receipts and markers, carbons and reconnects.
package sync
