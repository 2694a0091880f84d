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
  nginx-light                                                                # a real third-party portal (TLS resumption on and off)
)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)                            # axe-core for the accessibility tests
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# axe-core (the accessibility engine the browser tests inject), pinned by package-lock.json.
root=$(cd "$(dirname "$0")/../.." && pwd)
axe=$root/kiosk-ui/screens/testdata
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ]; then
  echo "deps: installing axe-core into kiosk-ui/screens/testdata"
  npm ci --prefix "$axe" --no-audit --no-fund --loglevel=error >/dev/null
fi
