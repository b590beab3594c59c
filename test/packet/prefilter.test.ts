/**
 * The fixed-offset fast path must agree with the full decoder on every real frame it vouches
 * for: same ports, flags and addresses, and nothing decodePacket() would have reported
 * (Issues, tunnels) on a frame it lets the analysis pass over.
 */
import {describe, expect, it} from 'vitest'
import {readCapture} from '../../src/capture/source.js'
import type {RawFrame} from '../../src/capture/types.js'
import {formatIpv4, formatIpv6} from '../../src/packet/address.js'
import {decodePacket} from '../../src/packet/packet.js'
import {FRAME_DECODE, FRAME_OTHER, FRAME_TCP, newPrefilteredTcp, prefilterFrame} from '../../src/packet/prefilter.js'
import {PrefilteredPacketBuilder} from '../../src/packet/prefiltered-packet.js'
import type {Packet} from '../../src/packet/types.js'
import {corpusFiles} from '../helpers/paths.js'
import {itWithJa4} from '../helpers/skip.js'

const FIXTURES = [
  'fixtures/tcp/tls13-lo/tls13-lo.pcap',
  'fixtures/tls/openssl13-mtls/capture.pcap',
  // Cut at 96 bytes (tcpdump -s 96): TCP payloads shorter than the wire's.
  'fixtures/snaplen/snaplen.pcap',
]

async function frames(file: string): Promise<RawFrame[]> {
  const out: RawFrame[] = []
  // A corrupt corpus file (the capture reader's test) still yields the frames before the damage.
  await readCapture(file, {frame: (frame) => out.push({...frame, data: frame.data.slice()})}).catch(() => undefined)
  return out
}

const files = [...corpusFiles().filter((path) => /\.(pcap|pcapng|cap)$/.test(path)), ...FIXTURES]

/** The packet with its lazily decoded TCP options read, as plain objects. */
function plain(packet: Packet): Packet {
  return {...packet, ip: {...packet.ip!}, tcp: {...packet.tcp!, options: packet.tcp!.options}}
}

describe('prefilterFrame agrees with decodePacket', () => {
  const totals = {[FRAME_DECODE]: 0, [FRAME_TCP]: 0, [FRAME_OTHER]: 0} as Record<number, number>
  const tunnelled: string[] = []
  let wholeBuilt = 0
  let truncatedBuilt = 0
  let taggedLeft = 0

  it.each(files)('%s', async (file) => {
    const all = await frames(file)
    const out = newPrefilteredTcp()
    // One builder for the whole file, as the analysis uses it: nothing of a frame may stay behind.
    const builder = new PrefilteredPacketBuilder()
    for (const frame of all) {
      // In place in a bigger buffer, as the pcap reader hands it over.
      const buffer = new Uint8Array(frame.data.length + 11)
      buffer.set(frame.data, 7)
      const kind = prefilterFrame(frame.linkType, buffer, 7, 7 + frame.data.length, out)
      expect(prefilterFrame(frame.linkType, frame.data, 0, frame.data.length, newPrefilteredTcp())).toBe(kind)
      totals[kind]!++
      const packet = decodePacket(frame)
      if (packet.tunnels) {
        expect(kind, `frame ${frame.index} is tunnelled`).toBe(FRAME_DECODE)
        tunnelled.push(`${file}#${frame.index}`)
      }
      if (kind === FRAME_DECODE) continue
      expect(packet.issues, `frame ${frame.index}`).toBeUndefined()
      expect(packet.tunnels).toBeUndefined()
      expect(packet.ip?.fragment).toBeUndefined()
      if (kind === FRAME_OTHER) {
        expect(packet.tcp, `frame ${frame.index}`).toBeUndefined()
        continue
      }
      expect(packet.tcp, `frame ${frame.index}`).toBeDefined()
      expect([out.srcPort, out.dstPort, out.flags]).toEqual([packet.tcp!.srcPort, packet.tcp!.dstPort, packet.tcp!.flags])
      const format = out.v6 ? formatIpv6 : formatIpv4
      expect([format(buffer, out.srcAddr), format(buffer, out.dstAddr)]).toEqual([packet.ip!.src, packet.ip!.dst])
      // The Packet built from the prefilter's offsets is decodePacket()'s, field for field.
      const built = new PrefilteredPacketBuilder().build(buffer, 7, 7 + frame.data.length, frame.linkType, frame.index, frame.tsSec + frame.tsNsec / 1e9, out)
      if (out.tagged) {
        expect(built).toBeUndefined()
        taggedLeft++
        continue
      }
      const {vlanIds: _none, ...decoded} = packet
      expect(plain(built!), `frame ${frame.index}`).toEqual(decoded)
      expect(Object.keys(built!)).toEqual(Object.keys(decoded))
      const reused = builder.build(buffer, 7, 7 + frame.data.length, frame.linkType, frame.index, frame.tsSec + frame.tsNsec / 1e9, out)
      expect(plain(reused!), `frame ${frame.index} (reused builder)`).toEqual(decoded)
      built!.truncated ? truncatedBuilt++ : wholeBuilt++
    }
  })

  // The totals need the corpus's thousands of frames and its tunnels.
  itWithJa4('built the Packet of every untagged plain TCP frame, cut by snaplen or whole', () => {
    expect(wholeBuilt).toBeGreaterThan(1000)
    expect(truncatedBuilt).toBeGreaterThan(0)
    expect(wholeBuilt + truncatedBuilt + taggedLeft).toBe(totals[FRAME_TCP])
  })

  itWithJa4('vouched for plain TCP and left every tunnel to the full decoder', () => {
    expect(totals[FRAME_TCP]).toBeGreaterThan(1000)
    expect(totals[FRAME_OTHER]).toBeGreaterThan(0)
    // tcpdump-geneve.pcap, gre-sample.pcap, gre-erspan-vxlan.pcap carry tunnels.
    expect(tunnelled.length).toBeGreaterThan(0)
  })
})
