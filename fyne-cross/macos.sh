#!/usr/bin/env bash
# macOS builds (arm64 and amd64).
#
# On a Mac with Xcode:
#   fyne-cross/macos.sh                 # fyne-cross/dist/darwin-{arm64,amd64}/Rounds.app
# On Linux with Docker/Podman, given a macOS SDK extracted from Apple's
# Command Line Tools for Xcode (fyne-cross darwin-sdk-extract --xcode-path
# Command_Line_Tools_for_Xcode_<v>.dmg; Apple's licence allows this only on
# Apple hardware):
#   MACOSX_SDK=/path/to/SDKs/MacOSX.sdk fyne-cross/macos.sh
#
# The .app is unsigned. Distributing outside the App Store needs a Developer
# ID signature and notarisation (codesign, xcrun notarytool) on a Mac.
source "$(dirname "$0")/env.sh"
need_fyne_cross
common=(-arch=arm64,amd64 -app-id "$APP_ID" -app-version "$APP_VERSION" -app-build "$APP_BUILD"
        -icon assets/icons/macos/rounds-1024.png -name "$APP_NAME" -ldflags "$LDFLAGS"
        -category medical)

if [ "$(uname -s)" = Darwin ]; then
  need_fyne
  PATH=$(dirname "$FYNE"):$PATH "$FYNE_CROSS" darwin "${common[@]}" .
else
  : "${MACOSX_SDK:?set MACOSX_SDK to an extracted MacOSX.sdk (see the comment at the top)}"
  "$FYNE_CROSS" darwin -macosx-sdk-path "$MACOSX_SDK" "${common[@]}" .
fi
ls -l fyne-cross/dist/darwin-*/
