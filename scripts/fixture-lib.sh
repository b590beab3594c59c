# shellcheck shell=bash
# Shared helpers for fixtures/**/make.sh: capture start/stop, waiting for readiness, cleanup,
# the test certificate, and reading a capture back with tshark into expected.json facts.
#
# Usage in a make.sh (run as root):
#   cd "$(dirname "$0")"; . ../../../scripts/fixture-lib.sh   # from fixtures/<area>/<name>/; sets -euo pipefail + cleanup trap
#   fx_bg server.log node server.mjs ...                # background process, killed on exit
#   fx_tcpdump out.pcap lo 'host 127.0.0.2 and tcp port 8084'
#   ... scenario ...
#   fx_capture_stop
#
# Everything started through fx_bg / fx_capture_* and every namespace made with fx_netns is
# removed on exit, including on error (trap on EXIT, INT, TERM).

set -euo pipefail

FX_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FX_ROOT=$(cd "$FX_LIB_DIR/.." && pwd)
FX_PIDS=()
FX_NETNS=()
FX_CAPTURE_PID=
FX_TMP=$(mktemp -d /tmp/dc-fixture.XXXXXX)

fx_log() { printf '[%s] %s\n' "$(basename "$PWD")" "$*" >&2; }
fx_die() { fx_log "ERROR: $*"; exit 1; }

fx_cleanup() {
  local rc=$? pid ns
  trap - EXIT INT TERM
  if [[ -n $FX_CAPTURE_PID ]] && kill -0 "$FX_CAPTURE_PID" 2>/dev/null; then
    kill -INT "$FX_CAPTURE_PID" 2>/dev/null || true
    wait "$FX_CAPTURE_PID" 2>/dev/null || true
  fi
  for pid in "${FX_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  for ns in "${FX_NETNS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  if (( rc != 0 )); then
    fx_log "failed (exit $rc); logs kept in $FX_TMP"
  else
    rm -rf "$FX_TMP"
  fi
  exit "$rc"
}
trap fx_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fx_require_root() { [[ $(id -u) == 0 ]] || fx_die "run as root (tcpdump, network namespaces)"; }

# fx_wait_line FILE REGEX [TIMEOUT_S=10] [PID] — wait until FILE has a line matching REGEX;
# give up at once if PID (the process writing FILE) has exited.
fx_wait_line() {
  local file=$1 re=$2 timeout=${3:-10} pid=${4:-} i
  for ((i = 0; i < timeout * 20; i++)); do
    if [[ -f $file ]] && grep -Eq -- "$re" "$file"; then return 0; fi
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  fx_log "no /$re/ in $file:"; cat "$file" >&2 2>/dev/null || true
  return 1
}

# fx_bg LOG CMD... — start CMD in the background (stdout+stderr to $FX_TMP/LOG); pid in FX_LAST_PID.
fx_bg() {
  local log=$FX_TMP/$1; shift
  "$@" >"$log" 2>&1 &
  FX_LAST_PID=$!
  FX_PIDS+=("$FX_LAST_PID")
}

# fx_bg_wait PID — wait for a background process started with fx_bg and return its status.
fx_bg_wait() { local rc=0; wait "$1" || rc=$?; return "$rc"; }

# fx_capture_start READY_REGEX CMD... — start a capture command, wait until its stderr says it
# is capturing (tcpdump: "listening on", dumpcap: "Capturing on").
fx_capture_start() {
  local ready=$1; shift
  [[ -z $FX_CAPTURE_PID ]] || fx_die "a capture is already running"
  "$@" 2>"$FX_TMP/capture.log" &
  FX_CAPTURE_PID=$!
  if ! fx_wait_line "$FX_TMP/capture.log" "$ready" 10 "$FX_CAPTURE_PID"; then fx_die "capture did not start: $*"; fi
}

# tcpdump options for every fixture: --immediate-mode hands each packet over at once (without
# it libpcap's TPACKET_V3 ring holds packets up to its 1 s block timeout and a SIGINT sooner
# loses them), -U writes each packet to the file as it comes, -Z root keeps the file root's
# instead of the tcpdump user's.
FX_TCPDUMP_OPTS=(--immediate-mode -U -Z root)

# fx_tcpdump OUT IFACE FILTER [tcpdump options...] — tcpdump -w OUT.
fx_tcpdump() {
  local out=$1 iface=$2 filter=$3; shift 3
  rm -f "$out"
  fx_capture_start 'listening on' tcpdump -i "$iface" "${FX_TCPDUMP_OPTS[@]}" "$@" -w "$out" "$filter"
}

# fx_netns_tcpdump NS OUT IFACE FILTER [options...] — the same, inside network namespace NS.
fx_netns_tcpdump() {
  local ns=$1 out=$2 iface=$3 filter=$4; shift 4
  rm -f "$out"
  fx_capture_start 'listening on' ip netns exec "$ns" tcpdump -i "$iface" "${FX_TCPDUMP_OPTS[@]}" "$@" -w "$out" "$filter"
}

# fx_dumpcap OUT IFACE FILTER — dumpcap writes pcapng.
fx_dumpcap() {
  local out=$1 iface=$2 filter=$3
  rm -f "$out"
  fx_capture_start 'Capturing on' dumpcap -q -i "$iface" -f "$filter" -w "$out"
}

# fx_capture_stop — let the last packets reach the capture, stop it with SIGINT, wait for it.
fx_capture_stop() {
  [[ -n $FX_CAPTURE_PID ]] || fx_die "no capture running"
  sleep 0.5
  kill -INT "$FX_CAPTURE_PID"
  local rc=0
  wait "$FX_CAPTURE_PID" || rc=$?
  FX_CAPTURE_PID=
  (( rc == 0 )) || fx_die "capture exited with $rc: $(cat "$FX_TMP/capture.log")"
  cat "$FX_TMP/capture.log" >&2
}

# fx_netns NAME — create a fresh network namespace with lo up; deleted on exit.
fx_netns() {
  local ns=$1
  ip netns del "$ns" 2>/dev/null || true
  ip netns add "$ns"
  FX_NETNS+=("$ns")
  ip -n "$ns" link set lo up
}

# fx_need CMD DEBIAN_PACKAGE — install a missing tool.
fx_need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  fx_log "installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}

# The test Console certificate: self-signed P-256, CN console.test, SAN DNS:console.test,
# IP:127.0.0.2, valid 10 years. Made once and kept, so every TLS fixture carries the same
# certificate and a later --ca test can use server-cert.pem.
FX_CERT_DIR=$FX_ROOT/fixtures/tcp/tls13-lo
fx_cert() {
  [[ -s $FX_CERT_DIR/server-cert.pem && -s $FX_CERT_DIR/server-key.pem ]] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj /CN=console.test -addext 'subjectAltName=DNS:console.test,IP:127.0.0.2' \
    -keyout "$FX_CERT_DIR/server-key.pem" -out "$FX_CERT_DIR/server-cert.pem" 2>/dev/null
}

# The node:tls peers shared by the TLS scenarios (see fixtures/tcp/tls13-lo/README.md).
FX_TLS_SERVER=$FX_ROOT/fixtures/tcp/tls13-lo/server.mjs
FX_TLS_CLIENT=$FX_ROOT/fixtures/tcp/tls13-lo/client.mjs

# fx_frames FILE — number of complete frames tshark reads (a cut-short file still counts those before the cut).
fx_frames() { { tshark -r "$1" -T fields -e frame.number 2>/dev/null || true; } | wc -l | tr -d ' '; }

# fx_tcp_facts FILE SERVER_PORT — JSON array, one object per tshark tcp.stream touching SERVER_PORT,
# with the wire facts read back from the capture: endpoints, handshake frames, SYN retransmissions,
# RST/FIN senders, payload bytes. Client = the side that is not SERVER_PORT (all fixtures use a
# fixed server port), so the same code works on captures without the SYN.
fx_tcp_facts() {
  local file=$1 port=$2
  { tshark -r "$file" -Y "tcp.port == $port" -T fields -E separator=/t \
      -e tcp.stream -e frame.number -e frame.time_epoch -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport \
      -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.reset -e tcp.flags.fin -e tcp.len -e tcp.seq_raw \
      -e tcp.analysis.initial_rtt 2>/dev/null || true; } |
  node --input-type=module -e '
    import {readFileSync} from "node:fs"
    const port = Number(process.argv[1])
    const conns = new Map()
    for (const line of readFileSync(0, "utf8").split("\n")) {
      if (!line) continue
      const [stream, frame, ts, src, sport, dst, dport, syn, ack, rst, fin, len, seq, irtt] = line.split("\t")
      const fromServer = Number(sport) === port
      const side = fromServer ? "server" : "client"
      let c = conns.get(stream)
      if (!c) {
        c = {stream: Number(stream), client: fromServer ? `${dst}:${dport}` : `${src}:${sport}`,
             server: fromServer ? `${src}:${sport}` : `${dst}:${dport}`, frames: [], syns: [], synAcks: [],
             ackFrame: null, rst: [], fin: [], c2sBytes: 0, s2cBytes: 0, handshakeRttMs: null}
        conns.set(stream, c)
      }
      const f = {frame: Number(frame), ts: Number(ts)}
      c.frames.push(f)
      const isSyn = syn === "1" || syn === "True", isAck = ack === "1" || ack === "True"
      if (isSyn && !isAck && !fromServer) c.syns.push({...f, seq})
      if (isSyn && isAck && fromServer) c.synAcks.push(f)
      if (!isSyn && isAck && !fromServer && c.synAcks.length && c.ackFrame === null) c.ackFrame = f.frame
      if (rst === "1" || rst === "True") c.rst.push({frame: f.frame, from: side})
      if (fin === "1" || fin === "True") c.fin.push({frame: f.frame, from: side})
      if (fromServer) c.s2cBytes += Number(len); else c.c2sBytes += Number(len)
      if (irtt && c.handshakeRttMs === null) c.handshakeRttMs = Math.round(Number(irtt) * 1e6) / 1e3
    }
    const out = [...conns.values()].map(c => {
      const first = c.syns[0]
      const retrans = first ? c.syns.slice(1).filter(s => s.seq === first.seq) : []
      return {client: c.client, server: c.server, facts: {
        tsharkStream: c.stream,
        frames: c.frames.length,
        firstFrame: c.frames[0].frame,
        lastFrame: c.frames.at(-1).frame,
        sawOpening: c.syns.length > 0,
        synFrame: first ? first.frame : null,
        synRetransmissions: retrans.length,
        synRetransmissionFrames: retrans.map(s => s.frame),
        synSpanSeconds: first ? Math.round((c.syns.at(-1).ts - first.ts) * 1000) / 1000 : null,
        synAckFrame: c.synAcks[0]?.frame ?? null,
        ackFrame: c.ackFrame,
        handshakeRttMs: c.handshakeRttMs,
        rst: c.rst,
        rstFrom: c.rst[0]?.from ?? null,
        fin: c.fin,
        c2sPayloadBytes: c.c2sBytes,
        s2cPayloadBytes: c.s2cBytes,
      }}
    })
    process.stdout.write(JSON.stringify(out))
  ' "$port"
}

# fx_write_expected FILE SERVER_PORT VERDICTS_JSON [EXTRA_JSON] — write ./expected.json.
# VERDICTS_JSON is an array with one entry per expected connection, in capture order:
# {"checks": {...}, "why": "..."}. They come from the scenario, not from reading the capture:
# this function only joins them with the captured endpoints and facts, and fails when the
# capture holds a different number of connections than the scenario says.
fx_write_expected() {
  local file=$1 port=$2 verdicts=$3 extra=${4:-'{}'}
  local facts frames
  facts=$(fx_tcp_facts "$file" "$port")
  frames=$(fx_frames "$file")
  jq -n --arg capture "$(basename "$file")" --argjson port "$port" --argjson facts "$facts" \
        --argjson verdicts "$verdicts" --argjson frames "$frames" --argjson extra "$extra" '
    if ($facts | length) != ($verdicts | length) then
      error("capture has \($facts | length) connection(s) on port \($port), scenario expects \($verdicts | length)")
    else . end |
    {capture: $capture, ports: [$port], frames: $frames,
     connections: [range(0; $verdicts | length) as $i |
       {client: $facts[$i].client, server: $facts[$i].server} + $verdicts[$i] + {facts: $facts[$i].facts}]}
    + $extra' > expected.json
}

# fx_assert JQ_EXPR MESSAGE — the capture must show what the scenario intends (checked on expected.json).
fx_assert() { jq -e "$1" expected.json >/dev/null || fx_die "scenario check failed: $2"; }

# fx_tls_server HOST PORT [NETNS] — start the test Console (tls13-lo/server.mjs), inside network
# namespace NETNS when given, and wait until it listens.
fx_tls_server() {
  local log=server-$1-$2.log prefix=()
  [[ -z ${3:-} ]] || prefix=(ip netns exec "$3")
  fx_cert
  fx_bg "$log" "${prefix[@]}" node "$FX_TLS_SERVER" --host "$1" --port "$2" \
    --cert "$FX_CERT_DIR/server-cert.pem" --key "$FX_CERT_DIR/server-key.pem"
  fx_wait_line "$FX_TMP/$log" '^listening' 10 "$FX_LAST_PID"
}

# fx_tls_client HOST PORT [client.mjs options...] — run the test Defender (tls13-lo/client.mjs)
# to completion; fails with its log when it fails.
fx_tls_client() {
  local host=$1 port=$2; shift 2
  node "$FX_TLS_CLIENT" --host "$host" --port "$port" --ca "$FX_CERT_DIR/server-cert.pem" "$@" \
    >"$FX_TMP/client.log" 2>&1 || fx_die "client failed: $(cat "$FX_TMP/client.log")"
  cat "$FX_TMP/client.log" >&2
}

# fx_assert_no_loss FILE — tshark must see no missing segment: a capture that dropped packets is
# not the scenario it claims to be.
fx_assert_no_loss() {
  local lost
  lost=$(tshark -r "$1" -Y 'tcp.analysis.lost_segment or tcp.analysis.ack_lost_segment' -T fields -e frame.number 2>/dev/null | wc -l)
  (( lost == 0 )) || fx_die "$1: tshark reports $lost frame(s) after lost segments; regenerate"
}

# fx_assert_clean INDEX [FIRST_FRAME=1] — connection INDEX of expected.json is a full handshake in
# three consecutive frames from FIRST_FRAME, no SYN retransmission, no RST, a FIN from each side
# (their order is up to the two TLS stacks' close_notify race; a retransmitted FIN is allowed).
fx_assert_clean() {
  local i=$1 f=${2:-1}
  fx_assert ".connections[$i].facts | .synFrame == $f and .synAckFrame == $f + 1 and .ackFrame == $f + 2
      and .synRetransmissions == 0 and .rst == [] and ([.fin[].from] | unique) == [\"client\", \"server\"]" \
    "connection $i: expected a handshake in frames $f-$((f + 2)), no RST and a FIN from each side"
}

# fx_readme_observed FILE [NOTE] — rewrite the block between "<!-- observed:begin -->" and
# "<!-- observed:end -->" in ./README.md with what tshark sees in FILE now, so the README always
# describes the committed capture (ports and times change on every regeneration).
fx_readme_observed() {
  local file=$1 note=${2:-} block
  [[ -f README.md ]] && grep -q '<!-- observed:begin -->' README.md || fx_die "README.md lacks the observed markers"
  block=$FX_TMP/observed.md
  {
    echo "Generated by make.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) with: kernel $(uname -r)," \
      "$(tcpdump --version 2>&1 | head -2 | paste -sd, | sed 's/,/, /')," \
      "$(tshark --version 2>/dev/null | head -1 | sed 's/ (Git.*//'), node $(node --version)" \
      "(OpenSSL $(node -p process.versions.openssl)), $(openssl version | cut -d' ' -f1-2)."
    echo
    if [[ -n $note ]]; then echo "$note"; echo; fi
    echo '`capinfos -t -E -c -s` (file type, encapsulation, packets, size):'
    echo '```'
    capinfos -t -E -c -s "$file" 2>&1 | sed 1d || true
    echo '```'
    echo
    echo '`tshark -r '"$file"' -q -z conv,tcp`:'
    echo '```'
    tshark -r "$file" -q -z conv,tcp 2>/dev/null | sed '/^$/d' || true
    echo '```'
    echo
    echo 'Frames (`tshark -r '"$file"' -T fields -e frame.number -e frame.time_relative -e tcp.stream -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.flags.str -e tcp.len -e _ws.col.Info`):'
    echo '```'
    { tshark -r "$file" -T fields -E separator=' ' -e frame.number -e frame.time_relative -e tcp.stream \
        -e ip.src -e tcp.srcport -e ip.dst -e tcp.dstport -e tcp.flags.str -e tcp.len -e _ws.col.Info 2>&1 || true; } |
      grep -v '^Running as user'
    echo '```'
  } > "$block"
  awk -v block="$block" '
    /<!-- observed:begin -->/ {print; while ((getline line < block) > 0) print line; skip = 1; next}
    /<!-- observed:end -->/ {skip = 0}
    !skip' README.md > "$FX_TMP/README.md"
  cat "$FX_TMP/README.md" > README.md
}
