// Package sync keeps an account's encrypted store in step with its XMPP server.
//
// One Session per account connects, signs in, resumes (XEP-0198) or signs in
// again, and backs off with jitter when the network is gone. Everything it learns
// goes into securestore before anyone is told: an outgoing message is in the
// Outbox before a byte leaves and is marked sent only on the server's ack; an
// incoming one is stored (deduplicated by XEP-0359 ids, so live delivery, carbons
// and MAM may overlap) before it is acknowledged to the server or announced to
// the app. After every fresh sign-in the Session catches up from the archive
// (XEP-0313) from the stored cursor, and only then resends what the server never
// confirmed, so recipients see each message once.
//
// Events reach app/ through a channel of typed values; nothing here knows Fyne.
package sync
