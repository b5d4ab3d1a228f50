// Package wardnet shapes a test's link like a ward's Wi-Fi (Linux, root).
package wardnet
