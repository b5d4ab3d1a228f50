// Package tests will hold end-to-end tests: a real server and several clients.
package tests
