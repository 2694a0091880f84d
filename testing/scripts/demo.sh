#!/usr/bin/env bash
# make demo: the whole citizen flow on one machine with no hardware.
#
# It starts, in a private mount namespace (so its pcscd never clashes with one the machine
# runs): pcscd with the vpcd virtual readers, the demo council portal, kiosk-agent and — when
# a display is available — the kiosk-ui window (otherwise open the printed URL in a browser).
# Then it lets you insert and remove virtual cards from this terminal.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
state=${SMARTPATH_DEMO_DIR:-$root/.demo}
mkdir -p "$state"

if [ "${SMARTPATH_DEMO_INNER:-}" != 1 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -E"
  exec $SUDO unshare --mount --fork -- bash -c '
    set -e
    mount --make-rprivate /
    mkdir -p /run/pcscd && mount -t tmpfs -o mode=0755 tmpfs /run/pcscd
    export SMARTPATH_DEMO_INNER=1
    exec "$0"' "$0"
fi

bin=$root/bin
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Cards and PKI (made once, kept in .demo/).
[ -f "$state/jane.json" ] || "$bin/kiosk-vcard" new-card --name "Jane Citizen" --number C-1001 \
  --pin 123456 --alg p256 --pki "$state/pki" --out "$state/jane.json"
[ -f "$state/nikos.json" ] || "$bin/kiosk-vcard" new-card --name "Nikos Papadopoulos" --number C-2002 \
  --pin 654321 --alg rsa2048 --pki "$state/pki" --out "$state/nikos.json"

pcscd --foreground >"$state/pcscd.log" 2>&1 & pids+=($!)
"$bin/kiosk-demo-portal" --pki "$state/pki" --listen 127.0.0.1:9443 --sso-listen 127.0.0.1:9444 \
  --static-listen 127.0.0.1:9445 >"$state/portal.log" 2>&1 & pids+=($!)

# With a display the kiosk window is the shell the agent waits for between citizens; without
# one the UI opens in an ordinary browser, which no agent can order to start afresh.
shell=false
[ -n "${DISPLAY:-}" ] && [ -x "$bin/kiosk-ui" ] && shell=true
cat >"$state/kiosk.yaml" <<YAML
ui:
  listen: 127.0.0.1:8470
  url_file: $state/ui-url
  require_shell: $shell
  languages: [en, el, pl]
portal:
  home: https://localhost:9443/
  origins: [https://localhost:9444, https://localhost:9445]
  end_session_urls: [https://localhost:9443/logout]
  ca_file: $state/pki/council-ca-bundle.pem
session:
  idle_timeout: 2m
  idle_warning: 30s
admin:
  listen: 127.0.0.1:8479
log:
  level: info
  format: text
YAML
rm -f "$state/ui-url"
"$bin/kiosk-agent" run --config "$state/kiosk.yaml" >"$state/agent.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -s "$state/ui-url" ] && break; sleep 0.1; done
[ -s "$state/ui-url" ] || { echo "kiosk-agent did not start; see $state/agent.log"; tail -20 "$state/agent.log"; exit 1; }
url=$(cat "$state/ui-url")

if [ "$shell" = true ]; then
  "$bin/kiosk-ui" --url-file "$state/ui-url" --allow-origin http://127.0.0.1:8471 --allow-origin http://127.0.0.1:8472 --allow-origin http://127.0.0.1:8473 >"$state/ui.log" 2>&1 & pids+=($!)
  echo "The kiosk window is open on $DISPLAY."
else
  echo "Open this URL in a browser on this machine: $url"
fi
cat <<TXT

Demo portal: https://localhost:9443/  (logs: $state/)
Metrics:     http://127.0.0.1:8479/metrics   Health: http://127.0.0.1:8479/healthz
Cards:       Jane Citizen (PIN 123456, P-256), Nikos Papadopoulos (PIN 654321, RSA-2048)

Keys: j = insert/remove Jane's card, n = insert/remove Nikos's card, q = quit
TXT

card_pid=""
card_name=""
toggle() {
  local name=$1
  if [ -n "$card_pid" ]; then
    kill "$card_pid" 2>/dev/null || true; wait "$card_pid" 2>/dev/null || true
    echo "card removed ($card_name)"
    local was=$card_name; card_pid=""; card_name=""
    [ "$was" = "$name" ] && return
  fi
  "$bin/kiosk-vcard" insert --card "$state/$name.json" --addr 127.0.0.1:35963 >>"$state/card.log" 2>&1 &
  card_pid=$!; card_name=$name
  echo "card inserted ($name)"
}
while read -rsn1 key; do
  case $key in
    j) toggle jane ;;
    n) toggle nikos ;;
    q) break ;;
  esac
done
[ -n "$card_pid" ] && kill "$card_pid" 2>/dev/null || true
