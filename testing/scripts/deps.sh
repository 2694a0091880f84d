#!/usr/bin/env bash
# Installs the Debian packages that building and testing SmartPath need, when missing.
set -euo pipefail
pkgs=(
  pcscd libpcsclite-dev vsmartcard-vpcd pcsc-tools opensc yubico-piv-tool   # PC/SC + virtual card
  pkg-config gcc libgtk-3-dev libwebkit2gtk-4.0-dev                          # cgo: scard, webview
  xvfb xauth imagemagick xdotool                                             # the webview under Xvfb
  chromium                                                                   # web screens in a real browser
  gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64                                  # Windows build of the shell
  util-linux iproute2 procps                                                 # unshare, ip, pgrep
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
