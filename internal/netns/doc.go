// Package netns runs a test's code or starts a test's server inside a
// network namespace made with `ip netns add` (Linux, root), without losing
// the thread it used.
package netns
