// Package tests holds end-to-end tests of the whole product: the desktop
// binary in a real X server (Xvfb) against a real Prosody, driven with
// xdotool, with OS notifications shown by dunst on a private D-Bus session
// (desktop_test.go). They need Xvfb, xdotool, ImageMagick's import, dbus and
// dunst; `make test` installs them and a missing one fails, never skips.
package tests
