#!/usr/bin/env bash
# Installs what Rounds needs on Debian 12 that a fresh machine (Go, gcc, git) lacks.
# Usage: scripts/install-deps.sh [demo|test|package]   (default: test)
# Only missing packages are installed, so a warm machine pays a few dpkg queries.
set -euo pipefail

want=${1:-test}

server=(prosody prosody-modules lua-dbi-sqlite3 curl)
# The attachment viewer draws page 1 of a PDF with poppler's pdftoppm where it
# is installed (Linux desktops); the demo and the tests want it.
viewer=(poppler-utils)
# The desktop build's cgo headers (docs/BUILDING.md); pkg-config is easy to forget.
build=(gcc libc6-dev pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev
       libxinerama-dev libxi-dev libxxf86vm-dev)
# Tests: a display (Xvfb + Mesa), screenshots, a session bus with a notification
# daemon and an unlockable keyring, a foreign XMPP client and a second server
# (ejabberd, with its SQLite driver and sqlite3 to load its schema, for the
# archive in SQL) for interop; iproute2 (ip netns) and nftables for the cluster and Wi-Fi tests;
# nginx, the reverse proxy cli/deploy_test.go runs from the generated block.
tests=(xvfb xauth xdotool imagemagick libgl1-mesa-dri dbus dbus-x11 gnome-keyring
       libsecret-tools dunst python3-slixmpp procps ejabberd iproute2 nftables
       erlang-p1-sqlite3 sqlite3 nginx)

# Packages (make package-linux / package-windows): the Windows cross-compiler,
# xz for the archive; for make package-check the .desktop and AppStream
# validators and a display to start the packaged binary on.
packaging=(gcc-mingw-w64-x86-64 xz-utils desktop-file-utils appstream
           xvfb xauth xdotool libgl1-mesa-dri)

case $want in
  package) pkgs=("${build[@]}" "${packaging[@]}") ;;
  test)    pkgs=("${server[@]}" "${viewer[@]}" "${build[@]}" "${tests[@]}" "${packaging[@]}") ;;
  *)       pkgs=("${server[@]}" "${viewer[@]}" "${build[@]}") ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
# Debian's prosody package may start a system instance on 5222/5280; the project
# never uses it (tests and demo run their own on other ports), so stop it if it runs.
if command -v prosodyctl >/dev/null && [ -f /run/prosody/prosody.pid ]; then
  $sudo prosodyctl stop >/dev/null 2>&1 || true
fi
# Debian's ejabberd package likewise starts a system node listening on 5222/5269/5280/5443
# on all interfaces where systemd runs. The tests start their own nodes (own ports and
# namespaces, no epmd), so the system one is only an open service on a CI machine: stop it.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  $sudo systemctl disable --now ejabberd >/dev/null 2>&1 || true
  # nginx likewise: the tests start their own from a temporary prefix.
  $sudo systemctl disable --now nginx >/dev/null 2>&1 || true
elif [ -f /run/nginx.pid ] && command -v nginx >/dev/null; then
  $sudo nginx -s quit >/dev/null 2>&1 || true
fi
