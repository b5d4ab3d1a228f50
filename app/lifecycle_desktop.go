//go:build !android && !ios

package app

// lockInBackground: desktops keep syncing when minimised.
const lockInBackground = false
