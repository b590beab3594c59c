#!/usr/bin/env python3
"""Writes tshark-digests.json: what tshark (Wireshark's reader, independent of ours) sees in
every corpus capture and every capture under fixtures/capture/.

Per file: the frame count, the first and last frame's time (frame.time_epoch, as printed: nine
fractional digits), the sums of frame.len and frame.cap_len, and the SHA-256 of all captured
bytes concatenated in frame order (frame_raw from `tshark -T json -x`).
Run from the repository root: python3 test/capture/tshark-digests.py
"""
import glob, hashlib, json, os, subprocess

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = os.path.join(root, '..', 'shared', 'corpus', 'ja4', 'pcap')
files = sorted(glob.glob(os.path.join(corpus, '*'))) + sorted(glob.glob(os.path.join(root, 'fixtures', 'capture', '*', 'capture.*')))

digests = {}
for path in files:
    out = subprocess.run(['tshark', '-r', path, '-T', 'json', '-x', '-j', 'frame'],
                         capture_output=True, check=True).stdout
    packets = json.loads(out)
    sha = hashlib.sha256()
    total_len = total_cap = 0
    for p in packets:
        layers = p['_source']['layers']
        sha.update(bytes.fromhex(layers['frame_raw'][0]))
        total_len += int(layers['frame']['frame.len'])
        total_cap += int(layers['frame']['frame.cap_len'])
    in_corpus = os.path.dirname(path) == corpus
    name = 'corpus/' + os.path.basename(path) if in_corpus else os.path.relpath(path, root)
    digests[name] = {
        'frames': len(packets),
        'firstTime': packets[0]['_source']['layers']['frame']['frame.time_epoch'],
        'lastTime': packets[-1]['_source']['layers']['frame']['frame.time_epoch'],
        'sumLen': total_len,
        'sumCapLen': total_cap,
        'sha256': sha.hexdigest(),
    }

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tshark-digests.json'), 'w') as f:
    json.dump(digests, f, indent=1, sort_keys=True)
    f.write('\n')
