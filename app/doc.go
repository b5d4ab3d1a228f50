// Package app is the application: one signed-in account is one Client, wiring
// the encrypted store (securestore) to the server (sync). It owns behaviour and
// policy — inbox and conversation view models, unread counts, receipts shown
// per message and member, auto-lock, notifications without PHI — and knows
// nothing of Fyne: platform services (notifier, clock, sound, keyring, file
// opener) are interfaces implemented in ui/ or per platform, and every test
// here runs headless against a real Prosody.
package app
