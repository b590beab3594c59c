#!/bin/sh
# Regenerates test/packet/expected/*.json: per frame, what tshark decodes from the link layer
# down to the innermost IP and TCP/UDP header (through GENEVE), for every classic-pcap file of
# the corpus and of fixtures/dissect. decode.test.ts compares decodePacket against all frames.
# Needs tshark (4.0 used) and python3. IP reassembly is off: fragments are not reassembled by us.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CORPUS=${CORPUS:-$(cd "$ROOT/../shared/corpus/ja4/pcap" && pwd)}
OUT="$HERE/expected"
mkdir -p "$OUT"
FIELDS="frame.number frame.protocols frame.len frame.cap_len vlan.id
ip.src ip.dst ip.proto ip.ttl ip.len ip.id ip.flags.mf ip.frag_offset
ipv6.src ipv6.dst ipv6.nxt ipv6.hlim ipv6.plen ipv6.fraghdr.nxt ipv6.fraghdr.offset ipv6.fraghdr.more ipv6.fraghdr.ident
tcp.srcport tcp.dstport tcp.seq_raw tcp.ack_raw tcp.flags tcp.window_size_value tcp.len
tcp.options.mss_val tcp.options.wscale.shift tcp.options.sack_perm tcp.options.timestamp.tsval tcp.options.timestamp.tsecr
tcp.options.sack_le tcp.options.sack_re tcp.option_kind
udp.srcport udp.dstport udp.length
geneve.version geneve.flags geneve.proto_type geneve.vni geneve.option
gre.key erspan.spanid vxlan.vni"
ARGS=""
for f in $FIELDS; do ARGS="$ARGS -e $f"; done
for file in "$CORPUS"/* "$ROOT"/fixtures/dissect/*/*.pcap; do
  # Only classic pcap (µs, either byte order): what test/packet/load-frames.ts reads.
  magic=$(od -An -tx1 -N4 "$file" | tr -d ' ')
  case "$magic" in d4c3b2a1|a1b2c3d4) ;; *) continue ;; esac
  case "$file" in
    "$CORPUS"/*) name=$(basename "$file"); source="corpus:$name" ;;
    *) name=fixtures-$(basename "$(dirname "$file")")-$(basename "$file"); source="fixtures:${file#"$ROOT"/fixtures/}" ;;
  esac
  # shellcheck disable=SC2086
  tshark -r "$file" -n -o ip.defragment:FALSE -o ipv6.defragment:FALSE -o tcp.relative_sequence_numbers:FALSE \
    -o tcp.analyze_sequence_numbers:FALSE -T fields -E separator=/t -E occurrence=a -E aggregator=, $ARGS 2>/dev/null |
    python3 "$HERE/expected-from-tshark.py" "$file" "$source" > "$OUT/$name.json"
  echo "$name: $(grep -c '"frame"' "$OUT/$name.json") frames"
done
