#!/usr/bin/env python3
"""Regenerates test/corpus/tcp-entries.json from the JA4 corpus's expected files.

The expected files list streams by tshark's stream index without saying TCP or UDP; tshark
itself tells which entries are TCP connections: an entry is TCP when tshark sees TCP packets
between its src:srcport and dst:dstport. For those we record the client/server endpoints and
the JA4 / JA4_r values of each ClientHello (BSD-licensed JA4 only; JA4S/H/X/L/SSH ignored).
Run: python3 test/corpus/make-tcp-entries.py  (needs tshark)
"""
import glob, json, os, subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, '..', '..', '..', 'shared', 'corpus', 'ja4')
out = []
for path in sorted(glob.glob(os.path.join(CORPUS, 'expected', '*.json'))):
    capture = os.path.basename(path)[:-len('.json')]
    entries = json.load(open(path))
    if not entries:
        continue
    pcap = os.path.join(CORPUS, 'pcap', capture)
    rows = subprocess.run(
        ['tshark', '-n', '-r', pcap, '-Y', 'tcp', '-T', 'fields', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport',
         '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.dstport'],
        capture_output=True, text=True).stdout.splitlines()
    tuples = set()
    for row in rows:
        f = row.split('\t')
        # Tunnelled packets list outer and inner addresses comma-separated: take every pairing.
        srcs = [a for a in (f[0] + ',' + f[1]).split(',') if a]
        dsts = [a for a in (f[3] + ',' + f[4]).split(',') if a]
        for s in srcs:
            for d in dsts:
                tuples.add((s, f[2], d, f[5]))
    for e in entries:
        key = (e['src'], e['srcport'], e['dst'], e['dstport'])
        if key not in tuples:
            continue  # UDP (QUIC, DHCP) or not TCP
        hellos = []
        n = 1
        while f'JA4.{n}' in e:
            hellos.append({'ja4': e[f'JA4.{n}'], 'ja4r': e[f'JA4_r.{n}']})
            n += 1
        # JA4H entries are written from the packet that carried the HTTP message, so their
        # src/dst is not a client/server statement; TLS (JA4) and SSH entries are client → server.
        oriented = bool(hellos) or 'ssh_extras' in e or not any(k.startswith('JA4H') for k in e)
        record = {'capture': capture, 'stream': e['stream'], 'oriented': oriented,
                    'client': {'ip': e['src'], 'port': int(e['srcport'])},
                    'server': {'ip': e['dst'], 'port': int(e['dstport'])},
                    'sni': e.get('domain'), 'clientHellos': hellos}
        if record not in out:
            out.append(record)
json.dump(out, open(os.path.join(HERE, 'tcp-entries.json'), 'w'), indent=1)
print(len(out), 'TCP entries,', sum(len(x['clientHellos']) for x in out), 'ClientHellos')
