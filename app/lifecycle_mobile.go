//go:build android || ios

package app

// lockInBackground: phones lock as soon as the app leaves the screen.
const lockInBackground = true
