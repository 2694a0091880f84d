#!/usr/bin/env bash
# Runs a command in a private mount and network namespace: /run/pcscd is a fresh tmpfs (so
# the tests' own pcscd owns /run/pcscd/pcscd.comm) and only a loopback interface exists (so
# vpcd's ports and the test servers cannot clash with, or be reached from, anything else).
# Tests that need pcscd start it themselves (testing/pcscdtest) and see
# SMARTPATH_ISOLATED=1.
set -euo pipefail
if [ "${SMARTPATH_ISOLATED:-}" = 1 ]; then exec "$@"; fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -E"
exec $SUDO unshare --mount --net --fork -- bash -c '
  set -e
  mount --make-rprivate /
  mkdir -p /run/pcscd && mount -t tmpfs -o mode=0755 tmpfs /run/pcscd
  ip link set lo up
  # vpcd listens on 35963-35964, inside the ephemeral port range: keep outgoing connections
  # from taking them, or a restarted pcscd cannot bind its readers.
  sysctl -q -w net.ipv4.ip_local_reserved_ports=35963-35964
  export SMARTPATH_ISOLATED=1
  exec "$@"' isolated "$@"
