// Package ui draws Rounds with Fyne: one file per screen. It shows state and passes
// the user's intents to app/; it holds no policy and touches no storage or network.
package ui
