//go:build android || ios

package app

// lockInBackground: phones lock as soon as the app leaves the screen. A
// variable only so that tests can run both behaviours (lifecycle_test.go).
var lockInBackground = true
