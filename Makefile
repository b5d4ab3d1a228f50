# Rounds: the README's two commands are `make demo` and `make test`.
# Both install what a fresh Debian 12 machine (Go, gcc, git) lacks.

GO      ?= go
# Tests against real servers and cgo builds are slow on 2 cores; one generous bound.
# -count=1: a cached pass must not stand in for a run against a real server.
TESTFLAGS ?= -timeout 40m -count=1

.PHONY: demo test deps deps-demo vet unit test-keyring test-ejabberd vet-mobile build clean

demo: deps-demo build
	scripts/demo.sh

build:
	$(GO) build -o bin/rounds .
	$(GO) build -o bin/demoserver ./internal/testserver/cmd/demoserver

test: deps vet vet-mobile unit test-keyring

deps:
	scripts/install-deps.sh test

deps-demo:
	scripts/install-deps.sh demo

vet:
	$(GO) vet ./...

# The portable core (everything below ui/) must build for phones, where cgo,
# go-keyring and Prosody do not exist.
vet-mobile:
	GOOS=android GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./securestore/... ./sync/... ./app/...
	GOOS=ios GOARCH=arm64 CGO_ENABLED=0 $(GO) build ./securestore/... ./sync/... ./app/...

# ejabberd is the second real server (interop): its tests are opt-in for a
# plain `go test ./...` because it is heavy, and always on here.
unit:
	ROUNDS_EJABBERD=1 $(GO) test $(TESTFLAGS) ./...

test-ejabberd: deps
	ROUNDS_EJABBERD=1 $(GO) test -count=1 -run Ejabberd ./...

# The OS-keyring path for real: a private session bus with an unlocked
# gnome-keyring, no mocks.
test-keyring:
	dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; ROUNDS_REAL_KEYRING=1 $(GO) test -count=1 -run Keyring ./securestore/'

clean:
	rm -rf bin .demo
