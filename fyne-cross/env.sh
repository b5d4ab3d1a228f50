# Sourced by the fyne-cross/*.sh scripts: pinned tool versions and the app's
# metadata from FyneApp.toml (the one place it is written).
# shellcheck shell=bash
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

FYNE_CROSS_VERSION=v1.6.1   # github.com/fyne-io/fyne-cross
FYNE_TOOLS_VERSION=v1.7.4   # fyne.io/tools/cmd/fyne (same as the Makefile)

toml() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\{0,1\}\([^\"]*\)\"\{0,1\}[[:space:]]*$/\1/p" FyneApp.toml | head -n1; }
APP_ID=$(toml ID)
APP_NAME=$(toml Name)
APP_VERSION=$(toml Version)
APP_BUILD=$(toml Build)

# Tools go to bin/tools/ like the Makefile's fyne, never onto the user's PATH.
TOOLS=$ROOT/bin/tools
FYNE_CROSS=$TOOLS/fyne-cross-$FYNE_CROSS_VERSION/fyne-cross
FYNE=$TOOLS/fyne-$FYNE_TOOLS_VERSION/fyne

need_fyne_cross() {
  [ -x "$FYNE_CROSS" ] || GOBIN=$(dirname "$FYNE_CROSS") go install "github.com/fyne-io/fyne-cross@$FYNE_CROSS_VERSION"
  if ! command -v docker >/dev/null && ! command -v podman >/dev/null; then
    echo "fyne-cross needs Docker or Podman on this machine" >&2
    exit 1
  fi
}

need_fyne() {
  [ -x "$FYNE" ] || GOBIN=$(dirname "$FYNE") go install "fyne.io/tools/cmd/fyne@$FYNE_TOOLS_VERSION"
}

need_mac() {
  if [ "$(uname -s)" != Darwin ] || ! command -v xcodebuild >/dev/null; then
    echo "$1 needs a Mac with Xcode (xcodebuild); this is $(uname -s)" >&2
    exit 1
  fi
}

# main.version for the About text, as in scripts/package.sh.
LDFLAGS="-X=main.version=$APP_VERSION"
