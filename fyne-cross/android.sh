#!/usr/bin/env bash
# Android builds with fyne-cross (Docker or Podman; the image carries the NDK).
#
#   fyne-cross/android.sh apk   # test builds: fyne-cross/dist/android-arm64/Rounds.apk
#                               #              fyne-cross/dist/android-arm/Rounds.apk
#   fyne-cross/android.sh aab   # Play Store bundle, signed: fyne-cross/dist/android/Rounds.aab
#
# aab needs the upload key: ROUNDS_KEYSTORE (path inside this repository, e.g.
# a git-ignored tmp/upload.keystore), ROUNDS_KEY_NAME, and the passwords in
# ROUNDS_KEYSTORE_PASS / ROUNDS_KEY_PASS. fyne-cross takes them only as flags,
# so they are visible to other users of this machine while it runs: build
# release bundles on a single-user build machine.
source "$(dirname "$0")/env.sh"
need_fyne_cross
mode=${1:-apk}

common=(-app-id "$APP_ID" -app-version "$APP_VERSION" -app-build "$APP_BUILD"
        -icon assets/icons/rounds-1024.png -name "$APP_NAME" -ldflags "$LDFLAGS")

case $mode in
apk)
  # One APK per ABI: arm64-v8a for current phones, armeabi-v7a for older
  # hospital handsets.
  "$FYNE_CROSS" android -arch=arm64,arm "${common[@]}" .
  ;;
aab)
  : "${ROUNDS_KEYSTORE:?path to the upload keystore}" "${ROUNDS_KEY_NAME:?key alias}"
  : "${ROUNDS_KEYSTORE_PASS:?keystore password}"
  # fyne builds a release bundle for every ABI it knows (arm64, arm, 386,
  # amd64): it cannot restrict an .aab to arm64 + arm. Play serves each
  # device its own split.
  "$FYNE_CROSS" android -release -arch=multiple "${common[@]}" \
    -keystore "$ROUNDS_KEYSTORE" -keystore-pass "$ROUNDS_KEYSTORE_PASS" \
    -key-name "$ROUNDS_KEY_NAME" ${ROUNDS_KEY_PASS:+-key-pass "$ROUNDS_KEY_PASS"} .
  ;;
*)
  echo "usage: fyne-cross/android.sh apk|aab" >&2; exit 2 ;;
esac
ls -l fyne-cross/dist/android*/
