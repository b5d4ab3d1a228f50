# Rounds: the README's two commands are `make demo` and `make test`.
# Both install what a fresh Debian 12 machine (Go, gcc, git) lacks.

GO      ?= go
# Tests against real servers and cgo builds are slow on 2 cores; one generous bound.
# -count=1: a cached pass must not stand in for a run against a real server.
TESTFLAGS ?= -timeout 40m -count=1

.PHONY: test-ward-soak test-cluster-ward-soak
.PHONY: demo test deps deps-demo vet unit test-keyring test-fulldisk test-ejabberd vet-mobile build clean screenshots
.PHONY: deps-package package-linux package-windows package-check

demo: deps-demo build
	scripts/demo.sh

build:
	$(GO) build -o bin/rounds .
	$(GO) build -o bin/demoserver ./internal/testserver/cmd/demoserver
	$(GO) build -o bin/rounds-cli ./cmd/rounds-cli

# The packages come first: package-check inspects what they produced.
test: deps vet vet-mobile build package-linux package-windows package-check unit test-keyring test-fulldisk

deps:
	scripts/install-deps.sh test

deps-demo:
	scripts/install-deps.sh demo

deps-package:
	scripts/install-deps.sh package

# Packaging (docs/BUILDING.md): the fyne CLI, pinned, installed into bin/tools/.
# scripts/package.sh works in a copy of the tree (fyne package writes into it).
FYNE_TOOLS_VERSION := v1.7.4
FYNE := bin/tools/fyne-$(FYNE_TOOLS_VERSION)/fyne

$(FYNE):
	GOBIN=$(CURDIR)/$(dir $(FYNE)) $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOLS_VERSION)

# dist/Rounds-VERSION-linux-amd64.tar.xz: binary, .desktop, metainfo, icons, install Makefile.
package-linux: deps-package $(FYNE)
	FYNE=$(CURDIR)/$(FYNE) scripts/package.sh linux

# dist/Rounds.exe: cross-compiled with mingw-w64; icon, version info and manifest inside.
package-windows: deps-package $(FYNE)
	FYNE=$(CURDIR)/$(FYNE) scripts/package.sh windows

# Opens what the two targets above produced (tagged, so plain `go test ./...`
# does not look for dist/).
package-check: deps-package
	$(GO) vet -tags packaging ./packaging/
	$(GO) test -tags packaging -count=1 -timeout 10m ./packaging/

vet:
	$(GO) vet ./...

# The portable core (everything below ui/) must build for phones, where cgo,
# go-keyring and Prosody do not exist.
vet-mobile:
	GOOS=android GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./securestore/... ./sync/... ./app/... ./cli/...
	GOOS=ios GOARCH=arm64 CGO_ENABLED=0 $(GO) build ./securestore/... ./sync/... ./app/... ./cli/...

# ejabberd is the second real server (interop): its tests are opt-in for a
# plain `go test ./...` because it is heavy, and always on here.
unit:
	ROUNDS_EJABBERD=1 $(GO) test $(TESTFLAGS) ./...

# The ejabberd half of the server matrix (every test that runs through
# testserver.EachServer), the ejabberd-only tests, and the cluster and Wi-Fi
# tests (root: they build network namespaces).
MATRIX_TESTS = $(shell grep -rhoE 'testserver\.EachServer\(t, test[A-Za-z0-9_]+\)' --include='*_test.go' . | sed -E 's/.*\(t, test(.*)\)/Test\1/' | sort -u | paste -sd'|')
test-ejabberd: deps
	ROUNDS_EJABBERD=1 ROUNDS_SERVERS=ejabberd $(GO) test -count=1 -run 'Ejabberd|Cluster|WardWiFi|^($(MATRIX_TESTS))$$' ./...

# The OS-keyring path for real: a private session bus with an unlocked
# gnome-keyring, no mocks.
test-keyring:
	dbus-run-session -- sh -c 'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; ROUNDS_REAL_KEYRING=1 $(GO) test -count=1 -run Keyring ./securestore/'

# A purge on a real full disk (ENOSPC, not an injected fault): a 3 MiB tmpfs
# of its own, mounted for the run and removed after (root; CI runs as root).
FULLDISK_DIR := /tmp/rounds-fulldisk
test-fulldisk:
	mkdir -p $(FULLDISK_DIR)
	mountpoint -q $(FULLDISK_DIR) || mount -t tmpfs -o size=3m tmpfs $(FULLDISK_DIR)
	ROUNDS_FULLDISK_DIR=$(FULLDISK_DIR) $(GO) test -count=1 -run TestPurgeOnRealFullDisk ./securestore/; rc=$$?; umount $(FULLDISK_DIR); exit $$rc

# Regenerates every picture in docs/screenshots: the screens' renders (the
# same renders TestScreenshots and TestAttachmentScreenshots compare with
# them in every test run), the files-e2e-* captures of TestFilesEndToEnd, and
# the real-* pictures of the real desktop binary under Xvfb (tests/,
# docs/BUILDING.md).
screenshots:
	ROUNDS_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run 'TestScreenshots|TestAttachmentScreenshots|TestFilesEndToEnd' ./ui/
	ROUNDS_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(GO) test -count=1 ./tests/

clean:
	rm -rf bin .demo dist

# The ward Wi-Fi soak (issue 17, docs/BENCHMARKS.md "Ward Wi-Fi"): the mixed
# load over each profile for WARD_SOAK each (4 profiles: 2 h at 30m). Root.
WARD_SOAK ?= 30m
test-ward-soak: deps
	ROUNDS_WARD_SOAK=$(WARD_SOAK) $(GO) test -count=1 -timeout 4h -v -run 'TestWardLinkMixedLoad' ./app/
# The same profiles and load on the link to the two-node ejabberd cluster.
test-cluster-ward-soak: deps
	ROUNDS_EJABBERD=1 ROUNDS_WARD_SOAK=$(WARD_SOAK) $(GO) test -count=1 -timeout 4h -v -run 'TestClusterWardLink' ./app/

# The load figures (issue 17, docs/BENCHMARKS.md "Load"): 200 headless
# engines on one Prosody, then on the two-node ejabberd cluster (root, for
# the namespaces), stepping 5…500 msg/s until p99 send → stored passes 1 s.
# About 3-4 minutes each on 2 cores. ROUNDS_LOAD_CLIENTS / _RATES / _STEP narrow it.
.PHONY: test-load
test-load: deps
	ROUNDS_EJABBERD=1 $(GO) test -count=1 -timeout 30m -v -run '^$$' -bench 'BenchmarkLoad(Prosody|Cluster)$$' -benchtime 1x ./internal/loadgen/
