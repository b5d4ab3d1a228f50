//go:build !android && !ios

package app

// lockInBackground: desktops keep syncing when minimised. A variable only so
// that tests can run the phone behaviour too (lifecycle_test.go).
var lockInBackground = false
