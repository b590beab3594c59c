#!/usr/bin/env bash
# Regenerates test/protocols/tls/vectors.json: real TLS bytes from the public JA4 corpus and the fixtures,
# each with what tshark decodes from them, so the TLS tests compare our parsers with tshark
# field by field (tshark 4.0 also computes JA3/JA3S).
#
#   clientHellos / serverHellos: every TCP ClientHello / ServerHello frame tshark finds;
#     `hex` is the TLS bytes of that frame (tcp.reassembled.data when tshark reassembled
#     the PDU across segments, else tcp.payload), plus tshark's decoded fields.
#   streams: whole connections (TLS 1.2 with certificates in clear, TLS 1.3, HRR, alerts) as
#     the in-order TCP payload segments per direction, plus tshark's per-frame record and
#     handshake decode.
# Needs tshark (4.0+). Run from anywhere: test/protocols/tls/make-vectors.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$HERE/../../.."
CORPUS="$ROOT/../shared/corpus/ja4/pcap"
exec python3 - "$ROOT" "$CORPUS" "$HERE/vectors.json" <<'PY'
import glob, json, os, subprocess, sys

root, corpus, out_path = sys.argv[1:4]
# Fixtures talk TLS on 8084; corpus captures on 443 and other ports tshark recognises.
DECODE = ['-d', 'tcp.port==8084,tls', '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'tls.desegment_ssl_records:TRUE']

def tshark(path, display_filter, fields):
    cmd = ['tshark', '-n', '-r', path, *DECODE, '-Y', display_filter, '-T', 'fields',
           '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|']
    for f in fields:
        cmd += ['-e', f]
    res = subprocess.run(cmd, capture_output=True, text=True)
    rows = []
    for line in res.stdout.splitlines():
        cols = line.split('\t')
        rows.append(dict(zip(fields, cols + [''] * (len(fields) - len(cols)))))
    return rows

def rel(path):
    return os.path.relpath(path, root)

corpus_files = sorted(p for p in glob.glob(os.path.join(corpus, '*')) if not p.endswith('.notest.cap'))
fixture_files = sorted(glob.glob(os.path.join(root, 'fixtures', 'tls', '*', 'capture.pcap')))

CH_FIELDS = ['frame.number', 'tcp.stream', 'tcp.reassembled.data', 'tcp.payload',
             'tls.handshake.version', 'tls.handshake.random', 'tls.handshake.session_id_length',
             'tls.handshake.ciphersuite', 'tls.handshake.comp_method', 'tls.handshake.extension.type',
             'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str',
             'tls.handshake.extensions.supported_version', 'tls.handshake.extensions_supported_group',
             'tls.handshake.extensions_key_share_group', 'tls.handshake.sig_hash_alg_len',
             'tls.handshake.sig_hash_alg', 'tls.extension.psk_ke_mode',
             'tls.handshake.extensions_ec_point_format', 'tls.handshake.ja3', 'tls.handshake.ja3_full']
SH_FIELDS = ['frame.number', 'tcp.stream', 'tcp.reassembled.data', 'tcp.payload',
             'tls.handshake.version', 'tls.handshake.random', 'tls.handshake.ciphersuite',
             'tls.handshake.extension.type', 'tls.handshake.extensions.supported_version',
             'tls.handshake.extensions_key_share_group', 'tls.handshake.extensions_key_share_selected_group',
             'tls.handshake.extensions_alpn_str', 'tls.handshake.ja3s', 'tls.handshake.ja3s_full', '_ws.col.Info']

def hellos(files, handshake_type, fields):
    out = []
    for path in files:
        for row in tshark(path, f'tcp && tls.handshake.type=={handshake_type}', fields):
            # A proxy layer (SOCKS) makes tshark list the same payload twice: keep one.
            hex_bytes = (row.pop('tcp.reassembled.data') or row['tcp.payload']).split('|')[0].replace(':', '')
            row.pop('tcp.payload')
            out.append({'file': rel(path), 'frame': int(row.pop('frame.number')),
                        'stream': int(row.pop('tcp.stream')), 'hex': hex_bytes, 'tshark': row})
    return out

# Whole connections: segments in order per direction (these captures have no retransmissions;
# the script checks), and tshark's decode per frame.
STREAM_FILES = [os.path.join(corpus, 'badcurveball.pcap'),
                *fixture_files]
SEG_FIELDS = ['frame.number', 'frame.time_epoch', 'tcp.stream', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.syn',
              'tcp.flags.ack', 'tcp.payload', 'tcp.analysis.retransmission', 'tcp.analysis.out_of_order']
DECODE_FIELDS = ['frame.number', 'tcp.stream', 'tcp.srcport', 'tls.record.content_type', 'tls.record.opaque_type', 'tls.record.length',
                 'tls.handshake.type', 'tls.alert_message.level', 'tls.alert_message.desc',
                 'tls.handshake.certificate_length', 'tls.handshake.server_named_curve',
                 'tls.handshake.cert_type', 'tls.handshake.sig_hash_alg', 'tls.handshake.dnames_len',
                 'tls.handshake.ciphersuite']

def streams(path):
    segs = tshark(path, 'tcp', SEG_FIELDS)
    conns = {}
    for s in segs:
        sid = int(s['tcp.stream'])
        c = conns.setdefault(sid, {'file': rel(path), 'stream': sid, 'clientPort': None, 'segments': [], 'tshark': []})
        if s['tcp.flags.syn'] == '1' and s['tcp.flags.ack'] == '0':
            c['clientPort'] = int(s['tcp.srcport'])
        if s['tcp.analysis.retransmission'] or s['tcp.analysis.out_of_order']:
            raise SystemExit(f'{path}: frame {s["frame.number"]} is a retransmission; pick a clean capture')
        if s['tcp.payload']:
            c['segments'].append({'frame': int(s['frame.number']), 'ts': float(s['frame.time_epoch']),
                                  'srcPort': int(s['tcp.srcport']), 'hex': s['tcp.payload'].replace(':', '')})
    for row in tshark(path, 'tls', DECODE_FIELDS):
        sid = int(row.pop('tcp.stream'))
        # No SYN captured: the client is whoever sent the ClientHello.
        if conns[sid]['clientPort'] is None and row['tls.handshake.type'].split('|')[0] == '1':
            conns[sid]['clientPort'] = int(row['tcp.srcport'])
        row['frame'] = int(row.pop('frame.number'))
        row['srcPort'] = int(row.pop('tcp.srcport'))
        conns[sid]['tshark'].append(row)
    return [c for c in conns.values() if c['clientPort'] is not None and c['tshark']]

vectors = {
    'generatedBy': 'test/protocols/tls/make-vectors.sh',
    'tshark': subprocess.run(['tshark', '--version'], capture_output=True, text=True).stdout.splitlines()[0],
    'clientHellos': hellos(corpus_files + fixture_files, 1, CH_FIELDS),
    'serverHellos': hellos(corpus_files + fixture_files, 2, SH_FIELDS),
    'streams': [c for path in STREAM_FILES for c in streams(path)],
}
with open(out_path, 'w') as f:
    json.dump(vectors, f, indent=1)
print(f"{out_path}: {len(vectors['clientHellos'])} ClientHellos, {len(vectors['serverHellos'])} ServerHellos, "
      f"{len(vectors['streams'])} streams")
PY
