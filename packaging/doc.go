// Package packaging holds the checks of the installable packages that
// `make package-linux` and `make package-windows` put in dist/: what is inside
// the Linux archive and whether it installs, and whether Rounds.exe is a
// Windows GUI program for amd64 with its icon and version information.
//
// The tests carry the build tag "packaging" so a plain `go test ./...` does
// not depend on dist/; `make package-check` (part of `make test`) runs them
// after the package targets.
package packaging
