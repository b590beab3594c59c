"""Turns `tshark -T fields` output (the field list of make-expected.sh) into the JSON table
decode.test.ts compares decodePacket against. Walks frame.protocols the way our driver decodes:
link -> IP (v4/v6, IPv6 extension headers skipped) -> TCP | UDP [-> GENEVE | VXLAN -> Ethernet -> IP...]
| GRE [-> ERSPAN] -> (Ethernet | IP)... Anything else ends the walk: what tshark decodes beyond it
is not ours to match (ICMP-quoted headers, application data). Usage: expected-from-tshark.py FILE SOURCE < tshark-output"""
import json
import struct
import sys

FIELDS = """frame.number frame.protocols frame.len frame.cap_len vlan.id
ip.src ip.dst ip.proto ip.ttl ip.len ip.id ip.flags.mf ip.frag_offset
ipv6.src ipv6.dst ipv6.nxt ipv6.hlim ipv6.plen ipv6.fraghdr.nxt ipv6.fraghdr.offset ipv6.fraghdr.more ipv6.fraghdr.ident
tcp.srcport tcp.dstport tcp.seq_raw tcp.ack_raw tcp.flags tcp.window_size_value tcp.len
tcp.options.mss_val tcp.options.wscale.shift tcp.options.sack_perm tcp.options.timestamp.tsval tcp.options.timestamp.tsecr
tcp.options.sack_le tcp.options.sack_re tcp.option_kind
udp.srcport udp.dstport udp.length
geneve.version geneve.flags geneve.proto_type geneve.vni geneve.option
gre.key erspan.spanid vxlan.vni""".split()

LINK_TOKENS = {'eth', 'ethertype', 'vlan', 'sll', 'null', 'raw', 'loop'}
# Link header length by LINKTYPE (https://www.tcpdump.org/linktypes.html), before VLAN tags.
LINK_HEADER = {1: 14, 113: 16, 276: 20, 0: 4, 108: 4, 101: 0, 12: 0, 14: 0, 228: 0, 229: 0}
PROTOCOL_OF_TOKEN = {'tcp': 6, 'udp': 17, 'icmp': 1, 'icmpv6': 58, 'gre': 47}


def link_type(path):
    with open(path, 'rb') as f:
        head = f.read(24)
    order = '<' if head[:4] == b'\xd4\xc3\xb2\xa1' else '>'
    return struct.unpack(order + 'I', head[20:24])[0]


def num(text):
    return int(text, 16) if text.startswith('0x') else int(text)


def frame_entry(values, linktype):
    field = {name: (values[i].split(',') if i < len(values) and values[i] != '' else []) for i, name in enumerate(FIELDS)}
    tokens = field['frame.protocols'][0].split(':')
    entry = {'frame': int(field['frame.number'][0])}

    def at(name, index, convert=num):
        items = field[name]
        return convert(items[index]) if index < len(items) else None

    k = 0
    vlans = 0
    while k < len(tokens) and tokens[k] in LINK_TOKENS:
        vlans += tokens[k] == 'vlan'
        k += 1
    if vlans:
        entry['vlanIds'] = [num(v) for v in field['vlan.id'][:vlans]]
    tunnels = []
    while k < len(tokens) and tokens[k] in ('ip', 'ipv6'):
        token = tokens[k]
        j = tokens[:k].count(token)
        if token == 'ip':
            ip = {'version': 4, 'src': field['ip.src'][j], 'dst': field['ip.dst'][j],
                  'protocol': at('ip.proto', j), 'ttl': at('ip.ttl', j)}
            wire = at('ip.len', j)
            mf = field['ip.flags.mf'][j] in ('1', 'True')
            # tshark shows the offset in 8-octet units (RFC 791); IpHeader keeps bytes.
            offset = at('ip.frag_offset', j) * 8
            if mf or offset:
                ip['fragment'] = {'id': at('ip.id', j), 'offset': offset, 'moreFragments': mf}
            k += 1
        else:
            ip = {'version': 6, 'src': field['ipv6.src'][j], 'dst': field['ipv6.dst'][j],
                  'protocol': at('ipv6.nxt', j), 'ttl': at('ipv6.hlim', j)}
            wire = 40 + at('ipv6.plen', j)
            k += 1
            extensions = 0
            fragment_next = None
            while k < len(tokens) and tokens[k].startswith('ipv6.'):
                if tokens[k] == 'ipv6.fraghdr':
                    f = tokens[:k].count('ipv6.fraghdr')
                    ip['fragment'] = {'id': at('ipv6.fraghdr.ident', f), 'offset': at('ipv6.fraghdr.offset', f) * 8,
                                      'moreFragments': field['ipv6.fraghdr.more'][f] in ('1', 'True')}
                    fragment_next = at('ipv6.fraghdr.nxt', f)
                extensions += 1
                k += 1
            if extensions:
                # The final next header is the protocol the walk reaches (unknown: not compared).
                # A non-first fragment's payload is opaque: its Fragment header says what it is.
                reached = PROTOCOL_OF_TOKEN.get(tokens[k]) if k < len(tokens) else None
                ip['protocol'] = reached if reached is not None else fragment_next
        if 'ipEnd' not in entry and wire:
            # Where the outermost IP packet ends in the frame: any cut before it is truncation.
            entry['ipEnd'] = LINK_HEADER[linktype] + 4 * vlans + wire
        entry['ip'] = ip
        entry.pop('udp', None)
        if 'fragment' in ip or k >= len(tokens):
            break
        token = tokens[k]
        j = tokens[:k].count(token)
        if token == 'tcp':
            entry['tcp'] = tcp_entry(field, at, j)
            break
        if token == 'gre':
            # GRE key or ERSPAN session id is the tunnel's identifier; 0 when absent.
            k += 1
            if k < len(tokens) and tokens[k] == 'erspan':
                e = tokens[:k].count('erspan')
                tunnels.append({'vni': at('erspan.spanid', e) or 0, 'outerSrc': ip['src'], 'outerDst': ip['dst']})
                k += 1
            else:
                g = tokens[:k - 1].count('gre')
                tunnels.append({'vni': at('gre.key', g) or 0, 'outerSrc': ip['src'], 'outerDst': ip['dst']})
            while k < len(tokens) and tokens[k] in LINK_TOKENS:
                k += 1
            continue
        if token != 'udp':
            break
        entry['udp'] = {'srcPort': at('udp.srcport', j), 'dstPort': at('udp.dstport', j), 'length': at('udp.length', j)}
        k += 1
        if k < len(tokens) and tokens[k] == 'vxlan' and 4789 in (entry['udp']['srcPort'], entry['udp']['dstPort']):
            x = tokens[:k].count('vxlan')
            tunnels.append({'vni': at('vxlan.vni', x), 'outerSrc': ip['src'], 'outerDst': ip['dst']})
            entry.pop('udp', None)
            k += 1
            while k < len(tokens) and tokens[k] in LINK_TOKENS:
                k += 1
            continue
        if k >= len(tokens) or tokens[k] != 'geneve' or entry['udp']['dstPort'] != 6081:
            break
        g = tokens[:k].count('geneve')
        tunnel = {'vni': at('geneve.vni', g), 'outerSrc': ip['src'], 'outerDst': ip['dst'],
                  'flags': at('geneve.flags', g), 'protocolType': at('geneve.proto_type', g)}
        if tokens.count('geneve') == 1:
            # Per-option values cannot be told apart between several GENEVE layers.
            tunnel['options'] = [{'optionClass': int(o[0:4], 16), 'type': int(o[4:6], 16), 'data': o[8:]}
                                 for o in field['geneve.option']]
        tunnels.append(tunnel)
        k += 1
        while k < len(tokens) and tokens[k] in LINK_TOKENS:
            k += 1
    if tunnels:
        entry['tunnels'] = tunnels
    return entry


def tcp_entry(field, at, j):
    tcp = {'srcPort': at('tcp.srcport', j), 'dstPort': at('tcp.dstport', j), 'seq': at('tcp.seq_raw', j),
           'ack': at('tcp.ack_raw', j), 'flags': at('tcp.flags', j), 'window': at('tcp.window_size_value', j),
           'payloadLength': at('tcp.len', j)}
    if j == 0 and field['frame.protocols'][0].split(':').count('tcp') == 1:
        # Option fields carry no layer index; only a frame with one TCP header maps them safely.
        options = {}
        kinds = [num(v) for v in field['tcp.option_kind']]
        if field['tcp.options.mss_val']:
            options['mss'] = at('tcp.options.mss_val', 0)
        if field['tcp.options.wscale.shift']:
            options['windowScale'] = at('tcp.options.wscale.shift', 0)
        if 4 in kinds:
            options['sackPermitted'] = True
        if field['tcp.options.sack_le']:
            options['sack'] = [[num(l), num(r)] for l, r in zip(field['tcp.options.sack_le'], field['tcp.options.sack_re'])]
        if field['tcp.options.timestamp.tsval']:
            options['tsVal'] = at('tcp.options.timestamp.tsval', 0)
            options['tsEcr'] = at('tcp.options.timestamp.tsecr', 0)
        tcp['options'] = options
    return tcp


def main():
    path, source = sys.argv[1], sys.argv[2]
    linktype = link_type(path)
    frames = [frame_entry(line.rstrip('\n').split('\t'), linktype) for line in sys.stdin if line.strip()]
    print('{"source": %s, "linkType": %d, "frames": [' % (json.dumps(source), linktype))
    print(',\n'.join(json.dumps(f, separators=(',', ':')) for f in frames))
    print(']}')


main()
