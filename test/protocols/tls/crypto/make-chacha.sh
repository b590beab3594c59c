#!/usr/bin/env bash
# Real TLS 1.3 sessions for the record-protection tests, one per AEAD that RFC 8448 does not cover:
# TLS_CHACHA20_POLY1305_SHA256 and TLS_AES_256_GCM_SHA384 (SHA-384 key schedule).
#
# For each suite: `openssl s_server` on 127.0.0.40:8443 and `openssl s_client -keylogfile`, captured
# with `tcpdump -i lo` (filter: host and port). The client sends a line, then `K` (s_client's command
# for a KeyUpdate with update_requested, so both sides rekey, RFC 8446 §4.6.3), then another line;
# the server answers one line in between. Outputs, next to this script:
#   <name>.pcap   the capture
#   <name>.json   {cipherSuite, keylog (text), clientRandom, c2s, s2c (hex of each direction's TCP
#                 payload, concatenated in capture order), tshark: what tshark decrypts with the
#                 key log, per direction: record content types (inner types once decrypted),
#                 handshake message types, application data as text}
# The same JSON is extracted from two TLS fixtures made by fixtures/tls/*/make.sh (hello-retry.json,
# openssl13-mtls.json: TLS_AES_256_GCM_SHA384, a HelloRetryRequest, client certificates).
# Run as root (tcpdump on lo): sudo test/protocols/tls/crypto/make-chacha.sh
set -euo pipefail
if [[ $EUID -ne 0 ]]; then echo "run as root (tcpdump on lo)" >&2; exit 1; fi
HERE=$(cd "$(dirname "$0")" && pwd)
CERTS=$(cd "$HERE/../../../../fixtures/certs" && pwd)
ADDR=127.0.0.40
PORT=8443
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# extract PCAP KEYLOG PORT OUT SOURCE: the JSON described above, from a capture of one TLS 1.3
# connection whose server listens on PORT.
extract() {
  local pcap=$1 keys=$2 port=$3 out=$4 source=$5
  tshark -r "$pcap" -T fields -e tcp.srcport -e tcp.payload >"$TMP/payload.tsv"
  tshark -r "$pcap" -o "tls.keylog_file:$keys" -Y tls -T fields -E separator='|' \
    -e tcp.srcport -e tls.record.content_type -e tls.handshake.type -e data.data >"$TMP/decrypted.tsv"
  tshark -r "$pcap" -Y "tls.handshake.type == 2" -T fields -e tls.handshake.ciphersuite >"$TMP/suite.txt"
  tshark -r "$pcap" -Y "tls.handshake.type == 1" -T fields -e tls.handshake.random >"$TMP/random.txt"
  python3 - "$TMP" "$keys" "$port" "$out" "$source" <<'PY'
import json, sys
tmp, keys, port, out, source = sys.argv[1:]
streams = {'c2s': '', 's2c': ''}
for line in open(f'{tmp}/payload.tsv'):
    sport, _, payload = line.rstrip('\n').partition('\t')
    if payload:
        streams['s2c' if sport == port else 'c2s'] += payload.replace(':', '')
decrypted = {d: {'contentTypes': [], 'handshakeTypes': [], 'applicationData': []} for d in ('c2s', 's2c')}
for line in open(f'{tmp}/decrypted.tsv'):
    sport, content_types, types, data = line.rstrip('\n').split('|')
    d = decrypted['s2c' if sport == port else 'c2s']
    d['contentTypes'] += [int(t) for t in content_types.split(',') if t]
    d['handshakeTypes'] += [int(t) for t in types.split(',') if t]
    d['applicationData'] += [bytes.fromhex(x.replace(':', '')).decode() for x in data.split(',') if x]
json.dump({
    'source': source,
    # the cipher suite of the last ServerHello (after a HelloRetryRequest, the real one)
    'cipherSuite': int(open(f'{tmp}/suite.txt').read().split()[-1], 16),
    'clientRandom': open(f'{tmp}/random.txt').read().split()[0],
    'keylog': open(keys).read(),
    'c2s': streams['c2s'],
    's2c': streams['s2c'],
    'tshark': decrypted,
}, open(out, 'w'), indent=1)
PY
}

session() {
  local name=$1 suite=$2
  local pcap="$HERE/$name.pcap" keys="$TMP/$name.keys"
  rm -f "$pcap"
  tcpdump -i lo -U --immediate-mode -n -w "$pcap" "host $ADDR and tcp port $PORT" 2>"$TMP/tcpdump.err" &
  local tcpdump_pid=$!
  PIDS+=("$tcpdump_pid")
  for _ in $(seq 100); do grep -qs "listening on" "$TMP/tcpdump.err" && break; sleep 0.05; done

  { sleep 1.2; echo "hello from server"; sleep 2; } |
    openssl s_server -accept "$ADDR:$PORT" -naccept 1 -tls1_3 -ciphersuites "$suite" \
      -cert "$CERTS/console-server.pem" -key "$CERTS/console-server.key" >"$TMP/server.out" 2>&1 &
  local server_pid=$!
  PIDS+=("$server_pid")
  for _ in $(seq 100); do ss -Hltn "src $ADDR:$PORT" | grep -q . && break; sleep 0.05; done

  { echo "hello from client"; sleep 0.6; echo "K"; sleep 0.6; echo "after key update"; sleep 1.2; } |
    openssl s_client -connect "$ADDR:$PORT" -tls1_3 -ciphersuites "$suite" -servername console.test \
      -keylogfile "$keys" >"$TMP/client.out" 2>&1 || true
  wait "$server_pid" || true
  sleep 0.5
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true

  extract "$pcap" "$keys" "$PORT" "$HERE/$name.json" "test/protocols/tls/crypto/$name.pcap, made by make-chacha.sh"
  echo "== $name: tshark with the key log (src port | content types | handshake types | data)"
  cat "$TMP/decrypted.tsv"
}

session chacha20 TLS_CHACHA20_POLY1305_SHA256
session aes256 TLS_AES_256_GCM_SHA384
# Two of the TLS fixtures (made by fixtures/tls/*/make.sh): a HelloRetryRequest and mTLS.
for fixture in hello-retry openssl13-mtls; do
  dir="$HERE/../../../../fixtures/tls/$fixture"
  extract "$dir/capture.pcap" "$dir/keys.log" 8084 "$HERE/$fixture.json" "fixtures/tls/$fixture/capture.pcap"
done
