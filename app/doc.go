// Package app will hold the application: one signed-in account is one Client, with
// conversations, unread counts, urgency and escalation, org policy, auto-lock and
// notifications, over sync/ and securestore/. Platform services are interfaces here.
package app
