#!/usr/bin/env bash
# Real NSS key logs for the parser tests, written by `openssl s_client -keylogfile`:
#   tls13.keys   TLS 1.3 with -reconnect (s_client connects, then reconnects 5 times): 6 sessions
#   tls12.keys   a TLS 1.2 session (CLIENT_RANDOM lines, the 48-byte master secret)
# and expected.json: per file, the ClientHello randoms tshark reads from the capture (the key
# log's keys) and, per random, the labels awk counts in the file: independent of the parser.
# Run as root (tcpdump on lo): sudo test/keys/make-keylogs.sh
set -euo pipefail
if [[ $EUID -ne 0 ]]; then echo "run as root (tcpdump on lo)" >&2; exit 1; fi
HERE=$(cd "$(dirname "$0")" && pwd)
CERTS=$(cd "$HERE/../../fixtures/certs" && pwd)
ADDR=127.0.0.41
PORT=8443
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# session NAME S_CLIENT_ARGS...: one s_client run against a fresh s_server, captured.
session() {
  local name=$1
  shift
  tcpdump -i lo -U --immediate-mode -n -w "$TMP/$name.pcap" "host $ADDR and tcp port $PORT" 2>"$TMP/tcpdump.err" &
  local tcpdump_pid=$!
  PIDS+=("$tcpdump_pid")
  for _ in $(seq 100); do grep -qs "listening on" "$TMP/tcpdump.err" && break; sleep 0.05; done
  # stdin held open: s_server shuts down at EOF on stdin
  sleep 10 | openssl s_server -accept "$ADDR:$PORT" -cert "$CERTS/console-server.pem" -key "$CERTS/console-server.key" \
    >"$TMP/server.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do ss -Hltn "src $ADDR:$PORT" | grep -q . && break; sleep 0.05; done
  rm -f "$HERE/$name.keys"
  sleep 2 | openssl s_client -connect "$ADDR:$PORT" -servername console.test -keylogfile "$HERE/$name.keys" "$@" \
    >"$TMP/client.out" 2>&1 || true
  sleep 0.5
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  kill "${PIDS[-1]}" 2>/dev/null || true
  wait "${PIDS[-1]}" 2>/dev/null || true
  tshark -r "$TMP/$name.pcap" -Y "tls.handshake.type == 1" -T fields -e tls.handshake.random >"$TMP/$name.randoms"
  # label counts per client random, by awk (comments and blank lines skipped)
  awk '!/^#/ && NF == 3 { print $2, $1 }' "$HERE/$name.keys" | sort >"$TMP/$name.labels"
}

session tls13 -tls1_3 -reconnect
session tls12 -tls1_2

python3 - "$TMP" "$HERE/expected.json" <<'PY'
import json, sys
tmp, out = sys.argv[1:]
expected = {}
for name in ('tls13', 'tls12'):
    labels = {}
    for line in open(f'{tmp}/{name}.labels'):
        random, label = line.split()
        labels.setdefault(random, []).append(label)
    expected[name] = {
        'clientRandoms': open(f'{tmp}/{name}.randoms').read().split(),
        'labels': {r: sorted(ls) for r, ls in labels.items()},
    }
json.dump(expected, open(out, 'w'), indent=1)
PY
cat "$HERE/expected.json"
