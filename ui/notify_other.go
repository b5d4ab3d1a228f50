//go:build !linux

package ui

// newDesktopNotifications: outside Linux, notifications go through Fyne's
// SendNotification (the OS notification centre), which has no tap callback.
func newDesktopNotifications(onOpen func(conversationID string)) desktopNotifications {
	return nil
}
