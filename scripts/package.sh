#!/usr/bin/env bash
# Builds an installable package with the fyne CLI: linux (dist/Rounds-VERSION-linux-amd64.tar.xz)
# or windows (dist/Rounds.exe, cross-compiled with Debian's mingw-w64).
# Usage: FYNE=path/to/fyne scripts/package.sh linux|windows   (the Makefile sets FYNE)
#
# `fyne package` writes into the source directory while it works: a metadata
# init file, fyne.syso (a Windows COFF object that a Linux build of the same
# directory would try to link), the binary, and it bumps Build in
# FyneApp.toml. Several builds share this working tree, so it runs in a copy:
# dist/.stage-TARGET, a fixed path, so the Go build cache stays warm across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${1:?usage: scripts/package.sh linux|windows}
fyne=${FYNE:?FYNE must name the fyne CLI (make package-$target installs it)}
[ -x "$fyne" ] || { echo "package: no fyne CLI at $fyne" >&2; exit 1; }

toml() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\{0,1\}\([^\"]*\)\"\{0,1\}[[:space:]]*$/\1/p" FyneApp.toml | head -n1; }
version=$(toml Version)
build=$(toml Build)
appid=$(toml ID)
[ -n "$version" ] && [ -n "$build" ] && [ -n "$appid" ] || { echo "package: FyneApp.toml lacks Version, Build or ID" >&2; exit 1; }

stage=$root/dist/.stage-$target
rm -rf "$stage"
mkdir -p "$stage"
# The working tree by default; ROUNDS_PACKAGE_REV=HEAD (or any commit) packages
# committed sources only, leaving out edits in progress.
if [ -n "${ROUNDS_PACKAGE_REV:-}" ]; then
  git archive --format=tar "$ROUNDS_PACKAGE_REV" | tar -C "$stage" -xf -
else
  tar -C "$root" --exclude=./dist --exclude=./bin --exclude=./.git --exclude=./.demo --exclude=./tmp \
      -cf - . | tar -C "$stage" -xf -
fi

# main.version for the About text; fyne passes -ldflags found in GOFLAGS on to go build.
export GOFLAGS="${GOFLAGS:-} -buildvcs=false -ldflags=-X=main.version=$version"

start=$(date +%s)
case $target in
linux)
  # fyne's archive is only unpacked again below: compress it fast (-0).
  (cd "$stage" && XZ_OPT=-0 "$fyne" package -os linux --app-version "$version" --app-build "$build")
  # fyne's archive has the binary, a .desktop generated from FyneApp.toml, the
  # icon and an install Makefile. Swap in our .desktop and Makefile and add the
  # AppStream metainfo and the hicolor icon sizes, so software centres list it.
  work=$stage/.pkg
  mkdir -p "$work"
  tar -C "$work" -xJf "$stage/Rounds.tar.xz"
  top=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n1)
  # fyne uses usr/local/ only where the building machine has /usr/local;
  # the archive always does, so its Makefile has one layout to install.
  if [ ! -d "$top/usr/local" ]; then
    mv "$top/usr" "$work/local" && mkdir "$top/usr" && mv "$work/local" "$top/usr/local"
  fi
  usr=$top/usr/local
  install -Dm644 assets/linux/"$appid".desktop "$usr/share/applications/$appid.desktop"
  install -Dm644 assets/linux/"$appid".metainfo.xml "$usr/share/metainfo/$appid.metainfo.xml"
  for f in assets/icons/linux/hicolor/*/apps/"$appid".png; do
    size=$(basename "$(dirname "$(dirname "$f")")")
    install -Dm644 "$f" "$usr/share/icons/hicolor/$size/apps/$appid.png"
  done
  install -m644 assets/linux/Makefile "$top/Makefile"
  mkdir -p dist
  out=dist/Rounds-$version-linux-$(go env GOARCH).tar.xz
  XZ_OPT=${XZ_OPT:--6 -T0} tar -C "$work" --owner=0 --group=0 --sort=name -cJf "$out" "$(basename "$top")"
  ;;
windows)
  command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "package: x86_64-w64-mingw32-gcc missing (apt install gcc-mingw-w64-x86-64)" >&2; exit 1; }
  # -release: -trimpath, no symbol table; fyne adds -H=windowsgui and writes
  # fyne.syso (icon, version info, manifest) before the build.
  # A 256 px icon: ICO entries cannot say more than 256.
  (cd "$stage" && CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ GOARCH=amd64 \
    "$fyne" package -os windows -release --app-id "$appid" --app-version "$version" --app-build "$build" \
    --icon "$stage/assets/icons/windows/rounds-256.png")
  mkdir -p dist
  out=dist/Rounds.exe
  mv "$stage/Rounds.exe" "$out"
  ;;
*)
  echo "package: unknown target $target (linux or windows)" >&2; exit 2 ;;
esac
rm -rf "$stage"
echo "package: $out ($(du -h "$out" | cut -f1), $(( $(date +%s) - start )) s)"
