#!/usr/bin/env bash
# Regenerates test/protocols/proxy/streams.json: tshark's view of every connection in the proxy captures
# of the public corpus and of fixtures/proxy/. Per connection:
#   chunks     the two reassembled byte streams as [direction, hex] in the order they came, from
#              `tshark -z follow,tcp,raw,N` (one chunk per line of the follow output; lines
#              indented by a tab are the server's)
#   http       the CONNECT request and its response (-Y 'http.request.method == "CONNECT" || http.response');
#              Via from http.response.line (tshark has no Via field); of Proxy-Authorization only its presence
#   socks      the SOCKS preamble messages tshark dissected (generated [fields] of later frames excluded)
#   tls        where tshark's TLS dissection starts in each direction: the frame and relative
#              tcp.seq of the first ClientHello / ServerHello (offset in the stream = seq - 1)
# Usage: test/protocols/proxy/make-streams.sh   (needs tshark and python3)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../../.. && pwd)
CORPUS=$ROOT/../shared/corpus/ja4/pcap
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# capture path | name in streams.json | extra tshark args (decode-as for non-standard proxy ports)
CAPTURES=(
  "$CORPUS/https-connect.pcap|corpus/https-connect.pcap|"
  "$CORPUS/socks-https-example.pcap|corpus/socks-https-example.pcap|"
  "$CORPUS/socks4-https.pcap|corpus/socks4-https.pcap|-d tcp.port==9901,socks"
  "$ROOT/fixtures/proxy/http-connect-407/capture.pcap|fixtures/proxy/http-connect-407/capture.pcap|-d tcp.port==3128,http"
)

ts() { tshark "$@" 2>/dev/null; }

i=0
for entry in "${CAPTURES[@]}"; do
  IFS='|' read -r file name extra <<<"$entry"
  # shellcheck disable=SC2086
  read -r -a args <<<"$extra"
  dir=$TMP/$i
  mkdir -p "$dir"
  echo "$name" >"$dir/name"
  ts -r "$file" "${args[@]}" -Y tcp -T fields -e tcp.stream | sort -un >"$dir/streams"
  while read -r stream; do
    ts -r "$file" "${args[@]}" -q -z "follow,tcp,raw,$stream" >"$dir/follow.$stream"
  done <"$dir/streams"
  ts -r "$file" "${args[@]}" -Y 'socks.username || socks.results || socks.auth_method_count || socks.auth_accepted_method || socks.reserved || socks.subnegotiation_version || socks.auth_status' \
    -T fields -E occurrence=a -E aggregator=, -e frame.number -e tcp.stream -e tcp.srcport -e tcp.seq -e tcp.len \
    -e socks.version -e socks.command -e socks.dst -e socks.dstV6 -e socks.v4a_dns_name -e socks.remote_name \
    -e socks.dstport -e socks.port -e socks.results -e socks.auth_method -e socks.auth_accepted_method -e socks.auth_status >"$dir/socks"
  ts -r "$file" "${args[@]}" -Y 'http.request.method == "CONNECT" || http.response' \
    -T fields -E occurrence=a -E aggregator='|' -e frame.number -e tcp.stream -e tcp.srcport \
    -e http.request.method -e http.request.uri -e http.request.version -e http.response.code -e http.response.phrase \
    -e http.response.version -e http.server -e http.proxy_authenticate -e http.proxy_authorization -e http.response.line >"$dir/http"
  ts -r "$file" "${args[@]}" -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' \
    -T fields -E occurrence=f -e frame.number -e tcp.stream -e tcp.seq -e tls.handshake.type -e tls.handshake.extensions_server_name >"$dir/tls"
  i=$((i + 1))
done

python3 - "$TMP" >streams.json <<'EOF'
import json, os, re, sys

tmp = sys.argv[1]
out = []

def fields(path):
    with open(path) as f:
        return [line.rstrip('\n').split('\t') for line in f if line.strip()]

def num(text):
    return int(text) if text not in ('', None) else None

for d in sorted(os.listdir(tmp), key=int):
    base = os.path.join(tmp, d)
    name = open(os.path.join(base, 'name')).read().strip()
    socks = fields(os.path.join(base, 'socks'))
    http = fields(os.path.join(base, 'http'))
    tls = fields(os.path.join(base, 'tls'))
    for stream in [int(s) for s in open(os.path.join(base, 'streams')).read().split()]:
        follow = open(os.path.join(base, f'follow.{stream}')).read().splitlines()
        nodes = [l.split(': ', 1)[1] for l in follow if l.startswith('Node ')]
        chunks = [['s2c' if line.startswith('\t') else 'c2s', line.strip()] for line in follow if re.fullmatch(r'\t?[0-9a-f]+', line)]
        client_port = nodes[0].rsplit(':', 1)[1]
        conn = {'capture': name, 'stream': stream, 'client': nodes[0], 'server': nodes[1], 'chunks': chunks}
        conn['socks'] = [
            {
                'frame': int(r[0]), 'from': 'client' if r[2] == client_port else 'server', 'seq': int(r[3]), 'len': int(r[4]),
                'version': num(r[5]), 'command': num(r[6]), 'dst': r[7] or r[8] or None, 'v4aName': r[9] or None,
                'remoteName': r[10] or None, 'dstport': num(r[11]), 'port': num(r[12]), 'results': num(r[13]),
                'authMethods': [int(m) for m in r[14].split(',')] if r[14] else None,
                'acceptedMethod': int(r[15], 16) if r[15] else None, 'authStatus': num(r[16]),
            }
            for r in socks if int(r[1]) == stream
        ]
        conn['http'] = [
            {
                'frame': int(r[0]), 'from': 'client' if r[2] == client_port else 'server',
                'method': r[3] or None, 'uri': r[4] or None, 'code': num(r[6]), 'phrase': r[7] or None,
                'responseVersion': r[8] or None, 'server': r[9] or None,
                'proxyAuthenticate': r[10].split('|') if r[10] else None,
                'proxyAuthorizationPresent': r[11] != '',
                'via': ', '.join(l.split(':', 1)[1].replace('\\r\\n', '').strip() for l in r[12].split('|') if l.lower().startswith('via:')) or None,
            }
            for r in http if int(r[1]) == stream
        ]
        hello = {}
        for r in tls:
            if int(r[1]) != stream:
                continue
            key = 'clientHello' if r[3].split(',')[0] == '1' else 'serverHello'
            if key not in hello:
                hello[key] = {'frame': int(r[0]), 'offset': int(r[2]) - 1}
                if key == 'clientHello':
                    hello[key]['sni'] = r[4] or None
        conn['tls'] = hello
        out.append(conn)

json.dump({'generatedBy': 'test/protocols/proxy/make-streams.sh', 'tshark': os.popen('tshark -v 2>/dev/null').readline().strip(), 'connections': out}, sys.stdout, indent=1)
print()
EOF
echo "wrote $(pwd)/streams.json" >&2
