#!/usr/bin/env bash
# Regenerates test/protocols/tls/decrypted-vectors.json: what tshark reads from every TLS fixture when given
# the fixture's key log (fixtures/tls/NAME/keys.log), frame by frame — the handshake message types
# (plaintext and decrypted), the alert descriptions (plaintext and decrypted) and the X.509 name
# strings of the certificates (x509sat.printableString / x509sat.uTF8String, issuer and subject
# of every certificate in the frame, and of the CertificateRequest's certificate_authorities) and
# the decrypted application data (data.data, hex). test/protocols/tls/decrypt-fixtures.test.ts compares the connection
# reader with it. Needs tshark (4.0+). Run from anywhere: test/protocols/tls/make-decrypted-vectors.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$HERE/../../.."
exec python3 - "$ROOT" "$HERE/decrypted-vectors.json" <<'PY'
import glob, json, os, subprocess, sys

root, out_path = sys.argv[1:3]
FIELDS = ['frame.number', 'tcp.srcport', 'tls.handshake.type', 'tls.alert_message.desc', 'x509sat.printableString', 'x509sat.uTF8String', 'data.data']

def split(value):
    return [v for v in value.split('|') if v != '']

fixtures = []
for capture in sorted(glob.glob(os.path.join(root, 'fixtures', 'tls', '*', 'capture.pcap'))):
    folder = os.path.dirname(capture)
    keylog = os.path.join(folder, 'keys.log')
    if not os.path.exists(keylog):
        continue
    cmd = ['tshark', '-n', '-r', capture, '-d', 'tcp.port==8084,tls', '-o', f'tls.keylog_file:{keylog}',
           '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'tls.desegment_ssl_records:TRUE',
           '--disable-protocol', 'http',  # python13 negotiates ALPN http/1.1: keep its lines as data.data
           '-Y', 'tls', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|']
    for f in FIELDS:
        cmd += ['-e', f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    server_port = 8084
    frames = []
    for line in res.stdout.splitlines():
        cols = (line.split('\t') + [''] * len(FIELDS))[:len(FIELDS)]
        frames.append({
            'frame': int(cols[0]),
            'direction': 's2c' if int(cols[1]) == server_port else 'c2s',
            'handshakeTypes': [int(v) for v in split(cols[2])],
            'alerts': [int(v) for v in split(cols[3])],
            'x509Strings': split(cols[4]) + split(cols[5]),
            'applicationData': split(cols[6]),
        })
    fixtures.append({'name': os.path.basename(folder), 'frames': frames})

with open(out_path, 'w') as out:
    json.dump({'tshark': subprocess.run(['tshark', '--version'], capture_output=True, text=True).stdout.splitlines()[0], 'fixtures': fixtures}, out, indent=1)
    out.write('\n')
print(f'wrote {out_path}: {len(fixtures)} fixtures')
PY
