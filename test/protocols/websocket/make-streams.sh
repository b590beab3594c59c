#!/usr/bin/env bash
# Regenerates test/protocols/websocket/streams.json from the fixtures/ws captures: per capture, the TCP
# payload of each direction as tshark follows it (`-z follow,tcp,raw,0`: one hex line per
# segment, server lines indented by a tab), each segment with the frame number and time of the
# packet that carried it; plus what tshark dissects from the same capture with port 8085
# decoded as HTTP (`-d tcp.port==8085,http`): the request and the response (`-Y http`) and every
# WebSocket frame (`-Y websocket`), read from PDML so several frames in one packet stay apart.
# The tests feed the segments through our readers and compare field by field.
# Needs tshark (4.0+). Run from anywhere after regenerating a capture: test/protocols/websocket/make-streams.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$HERE/../../.."
exec python3 - "$ROOT" "$HERE/streams.json" <<'PY'
import json, os, subprocess, sys
import xml.etree.ElementTree as ET

root, out_path = sys.argv[1:3]
PORT = 8085
CAPTURES = ['fixtures/ws/cleartext/capture.pcap', 'fixtures/ws/python-client/capture.pcap']

def run(args):
    return subprocess.run(['tshark', *args], capture_output=True, text=True, check=True).stdout

def segments(path):
    """follow,tcp,raw gives the payload in order per segment; the frame list says which packet carried it."""
    lines = run(['-r', path, '-q', '-z', 'follow,tcp,raw,0']).splitlines()
    body = [l for l in lines[lines.index('Node 1: ' + node1(lines)) + 1:] if l and not l.startswith('=')]
    follow = [('s2c' if l.startswith('\t') else 'c2s', l.strip()) for l in body]
    frames = []
    # A retransmitted segment (loopback has the odd tail-loss probe) brings no new bytes: follow
    # leaves it out, and so do we.
    for row in run(['-r', path, '-Y', 'tcp.stream == 0 && tcp.len > 0 && !tcp.analysis.retransmission', '-T', 'fields',
                    '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'tcp.srcport', '-e', 'tcp.payload']).splitlines():
        frame, ts, sport, payload = row.split('\t')
        frames.append({'frame': int(frame), 'ts': float(ts), 'direction': 's2c' if int(sport) == PORT else 'c2s', 'hex': payload})
    assert len(frames) == len(follow), (path, len(frames), len(follow))
    for f, (direction, hex_) in zip(frames, follow):
        # No partial overlaps in these captures: each followed segment is one packet's payload.
        assert f['direction'] == direction and f['hex'] == hex_, (path, f['frame'])
    return frames

def node1(lines):
    return next(l for l in lines if l.startswith('Node 1: '))[len('Node 1: '):]

def pdml(path, display_filter):
    xml = run(['-r', path, '-d', f'tcp.port=={PORT},http', '-Y', display_filter, '-T', 'pdml'])
    return ET.fromstring(xml).findall('packet')

def frame_number(packet):
    return int(packet.find("proto[@name='geninfo']/field[@name='num']").get('show'))

def fields(proto):
    out = {}
    for f in proto.iter('field'):
        out.setdefault(f.get('name'), []).append(f.get('show'))
    return out

def http(path):
    out = []
    for packet in pdml(path, 'http'):
        for proto in packet.findall("proto[@name='http']"):
            f = fields(proto)
            one = lambda k: f[k][0] if k in f else None
            lines = f.get('http.request.line') or f.get('http.response.line') or []
            msg = {'frame': frame_number(packet),
                   'headers': [l.rstrip('\r\n ') for l in lines],  # PDML shows CRLF as spaces
                   'upgrade': one('http.upgrade'), 'connection': one('http.connection'),
                   'secWebSocketKey': one('http.sec_websocket_key'), 'secWebSocketVersion': one('http.sec_websocket_version'),
                   'secWebSocketAccept': one('http.sec_websocket_accept'),
                   'secWebSocketExtensions': one('http.sec_websocket_extensions'), 'host': one('http.host')}
            if 'http.request.method' in f:
                msg.update(kind='request', method=one('http.request.method'), uri=one('http.request.uri'), version=one('http.request.version'))
            else:
                msg.update(kind='response', version=one('http.response.version'), code=int(one('http.response.code')),
                           phrase=one('http.response.phrase'))
            out.append(msg)
    return out

def websocket(path):
    out = []
    for packet in pdml(path, 'websocket'):
        srcport = int(packet.find(".//field[@name='tcp.srcport']").get('show'))
        for proto in packet.findall("proto[@name='websocket']"):
            f = fields(proto)
            one = lambda k: f[k][0] if k in f else None
            length = int(one('websocket.payload_length'))
            if one('websocket.payload_length_ext_16') is not None: length = int(one('websocket.payload_length_ext_16'))
            if one('websocket.payload_length_ext_64') is not None: length = int(one('websocket.payload_length_ext_64'))
            ping = one('websocket.payload.ping')
            pong = one('websocket.payload.pong')
            code = one('websocket.payload.close.status_code')
            out.append({'frame': frame_number(packet), 'direction': 's2c' if srcport == PORT else 'c2s',
                        'fin': one('websocket.fin') == '1', 'rsv': int(one('websocket.rsv'), 16),
                        'opcode': int(one('websocket.opcode')), 'mask': one('websocket.mask') == '1',
                        'payloadLength': length,
                        'closeCode': int(code) if code is not None else None,
                        'closeReason': one('websocket.payload.close.reason'),
                        'pingHex': ping.replace(':', '') if ping is not None else None,
                        'pongHex': pong.replace(':', '') if pong is not None else None})
    return out

result = {'generatedBy': 'test/protocols/websocket/make-streams.sh', 'tshark': run(['--version']).splitlines()[0], 'captures': []}
for rel in CAPTURES:
    path = os.path.join(root, rel)
    result['captures'].append({'capture': rel, 'port': PORT, 'segments': segments(path),
                               'tshark': {'http': http(path), 'websocket': websocket(path)}})
with open(out_path, 'w') as fh:
    json.dump(result, fh, indent=1)
    fh.write('\n')
print(f'wrote {out_path}', file=sys.stderr)
PY
