// Package arrows holds no code: its test keeps the imports between Rounds'
// packages pointing down, as docs/ARCHITECTURE.md draws them.
package arrows
