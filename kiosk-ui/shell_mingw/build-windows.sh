#!/usr/bin/env bash
# Cross-builds the Windows (WebView2) kiosk shell with mingw-w64:
#   kiosk-ui/shell_mingw/build-windows.sh [output]      (default bin/kiosk-ui.exe)
# Needs gcc-mingw-w64-x86-64 and g++-mingw-w64-x86-64. WebView2.h includes "EventToken.h",
# which mingw ships as <eventtoken.h>: this folder's EventToken.h bridges the two.
# -H=windowsgui: no console window behind the kiosk.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/bin/kiosk-ui.exe}"
cd "$root"
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 \
  CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ \
  CGO_CXXFLAGS="-I$root/kiosk-ui/shell_mingw" \
  go build -ldflags "-H=windowsgui" -o "$out" ./cmd/kiosk-ui
echo "built $out"
