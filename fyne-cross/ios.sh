#!/usr/bin/env bash
# iOS builds: only on a Mac with Xcode (Apple's toolchain and signing do not
# run anywhere else; fyne-cross refuses iOS on other hosts).
#
#   fyne-cross/ios.sh dev   # Rounds.app for the simulator or a device via Xcode
#   fyne-cross/ios.sh ipa   # signed Rounds.ipa for TestFlight / the App Store:
#                           #   ROUNDS_IOS_CERT="Apple Distribution: <team>"
#                           #   ROUNDS_IOS_PROFILE="<provisioning profile name>"
#
# The App Store icon must be opaque: assets/icons/ios/rounds-1024.png has no
# alpha channel; fyne derives the device sizes from it.
source "$(dirname "$0")/env.sh"
need_mac "iOS"
need_fyne
need_fyne_cross
mode=${1:-dev}
icon=assets/icons/ios/rounds-1024.png

case $mode in
dev)
  GOFLAGS="-ldflags=$LDFLAGS" "$FYNE" package -os ios -app-id "$APP_ID" -app-version "$APP_VERSION" \
    -app-build "$APP_BUILD" -icon "$icon" -name "$APP_NAME"
  ;;
ipa)
  : "${ROUNDS_IOS_CERT:?signing certificate name}" "${ROUNDS_IOS_PROFILE:?provisioning profile name}"
  # fyne-cross on a Mac runs the fyne CLI from PATH: put ours first.
  PATH=$(dirname "$FYNE"):$PATH "$FYNE_CROSS" ios -release -app-id "$APP_ID" -app-version "$APP_VERSION" \
    -app-build "$APP_BUILD" -icon "$icon" -name "$APP_NAME" -ldflags "$LDFLAGS" \
    -certificate "$ROUNDS_IOS_CERT" -profile "$ROUNDS_IOS_PROFILE" .
  ls -l fyne-cross/dist/ios/
  ;;
*)
  echo "usage: fyne-cross/ios.sh dev|ipa" >&2; exit 2 ;;
esac
