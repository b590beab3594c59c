/**
 * GENEVE options (RFC 8926 §3.5) as the tunnel facts keep them: class, type, critical bit,
 * whole length and data; the Microperimeter option (type 0x20) named, its direction derived
 * from the outer addresses; malformed options reported, not thrown. Vectors are built here from
 * the RFC's layouts; the corpus capture tcpdump-geneve.pcap is cross-checked against tshark.
 */
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import type {RawFrame} from '../../src/capture/types.js'
import {decodeGeneve, MAX_GENEVE_OPTIONS, tunnelOption} from '../../src/packet/geneve.js'
import {decodePacket} from '../../src/packet/packet.js'
import {TCP_ACK, TCP_SYN} from '../../src/packet/types.js'
import {ConnectionTracker} from '../../src/stream/tracker.js'
import {CORPUS_PCAPS} from '../helpers/paths.js'
import {describeWithJa4} from '../helpers/skip.js'
import {requireTool} from '../helpers/tools.js'
import {loadFrames} from './load-frames.js'

const bytes = (...parts: Array<number[] | Uint8Array>): Uint8Array => Uint8Array.from(parts.flatMap((part) => [...part]))
const u16 = (n: number) => [n >> 8, n & 0xff]
const ipv4 = (address: string) => address.split('.').map(Number)

/**
 * One option (RFC 8926 §3.5): Option Class (16 bits), Type (8 bits, high bit = critical),
 * R R R (3 reserved bits) and Length (5 bits, the data's length in 4-byte words), then the data.
 */
function option(optionClass: number, type: number, data: number[]): number[] {
  expect(data.length % 4).toBe(0)
  return [...u16(optionClass), type, data.length / 4, ...data]
}

/**
 * The GENEVE header (RFC 8926 §3.4): Ver (2 bits) = 0 and Opt Len (6 bits, the options' length
 * in 4-byte words); O, C and 6 reserved bits; Protocol Type (16 bits); VNI (24 bits); Reserved (8).
 */
function geneveHeader(options: number[], protocolType = 0x0800, vni = 0x00abcd, critical = false): number[] {
  return [options.length / 4, critical ? 0x40 : 0, ...u16(protocolType), vni >> 16, (vni >> 8) & 0xff, vni & 0xff, 0, ...options]
}

/** IPv4 header (RFC 791), 20 bytes, no options; checksums are not verified by the decoder. */
function ipv4Header(src: string, dst: string, protocol: number, payloadLength: number): number[] {
  return [0x45, 0, ...u16(20 + payloadLength), 0, 1, 0x40, 0, 64, protocol, 0, 0, ...ipv4(src), ...ipv4(dst)]
}

/** TCP header (RFC 9293 §3.1), 20 bytes, no options. */
function tcpHeader(srcPort: number, dstPort: number, seq: number, ack: number, flags: number): number[] {
  const word = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
  return [...u16(srcPort), ...u16(dstPort), ...word(seq), ...word(ack), 0x50, flags, ...u16(65535), 0, 0, 0, 0]
}

const WORKLOAD = '192.0.2.10'
const FIREWALL = '192.0.2.99'
const DEFENDER = {ip: '10.0.0.5', port: 40000}
const CONSOLE = {ip: '10.0.9.9', port: 8084}
/** The Microperimeter option as a redirector would send it: class 0x0103 as an example, type 0x20, 4 bytes of data (shown as they are). */
const MICROPERIMETER = option(0x0103, 0x20, [0x00, 0x00, 0x00, 0x01])

/**
 * An Ethernet frame (LINKTYPE_ETHERNET) carrying IPv4/UDP 6081/GENEVE (protocol type IPv4,
 * RFC 8926 §3.4) around an inner IPv4/TCP segment.
 */
function geneveFrame(index: number, outer: [string, string], inner: [typeof DEFENDER, typeof CONSOLE], tcp: {seq: number; ack: number; flags: number}, options: number[]): RawFrame {
  const innerIp = bytes(ipv4Header(inner[0].ip, inner[1].ip, 6, 20), tcpHeader(inner[0].port, inner[1].port, tcp.seq, tcp.ack, tcp.flags))
  const geneve = bytes(geneveHeader(options), innerIp)
  const udp = bytes(u16(50000), u16(6081), u16(8 + geneve.length), [0, 0], geneve)
  const ip = bytes(ipv4Header(outer[0], outer[1], 17, udp.length), udp)
  const data = bytes([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00], ip)
  return {index, tsSec: 1_700_000_000, tsNsec: index * 1000, linkType: 1, data, origLen: data.length, interfaceId: 0}
}

describe('GENEVE options built from RFC 8926 §3.4-3.5', () => {
  it('decodes every option: class, type, critical bit, whole length, data', () => {
    const options = [...MICROPERIMETER, ...option(0xffff, 0x81, []), ...option(0x0000, 0x80, [0, 0, 0, 0x0c, 0xde, 0xad, 0xbe, 0xef])]
    const feedback = {frame: 1, truncated: false}
    const geneve = decodeGeneve(bytes(geneveHeader(options, 0x6558, 0x00abcd, true)), feedback)!
    expect(feedback).toEqual({frame: 1, truncated: false})
    expect(geneve.critical).toBe(true)
    expect(geneve.options.map(tunnelOption)).toEqual([
      {optionClass: 0x0103, type: 0x20, critical: false, length: 8, data: '00000001', name: 'microperimeter'},
      {optionClass: 0xffff, type: 0x81, critical: true, length: 4, data: ''},
      {optionClass: 0x0000, type: 0x80, critical: true, length: 12, data: '0000000cdeadbeef'},
    ])
  })

  it('a critical type 0xa0 is not the Microperimeter option (type 0x20 with the critical bit clear)', () => {
    const geneve = decodeGeneve(bytes(geneveHeader(option(0x0103, 0xa0, [1, 2, 3, 4]))), {frame: 1, truncated: false})!
    expect(geneve.options.map(tunnelOption)).toEqual([{optionClass: 0x0103, type: 0xa0, critical: true, length: 8, data: '01020304'}])
  })

  it(`keeps all ${MAX_GENEVE_OPTIONS} options of a full 252-byte options area (Opt Len 63), the most a header holds`, () => {
    const options = Array.from({length: 63}, (_, i) => option(i, i & 0x7f, [])).flat()
    expect(options.length).toBe(252)
    const geneve = decodeGeneve(bytes(geneveHeader(options)), {frame: 1, truncated: false})!
    expect(geneve.options).toHaveLength(MAX_GENEVE_OPTIONS)
    expect(geneve.options.map((o) => o.optionClass)).toEqual(Array.from({length: 63}, (_, i) => i))
  })

  it('an option whose length runs past the options area is an Issue on the packet, not a throw', () => {
    // Opt Len says 2 words; the option claims 3 words of data after its own header.
    const area = [...u16(0x0103), 0x20, 3, 0, 0, 0, 1]
    const frame = geneveFrame(1, [WORKLOAD, FIREWALL], [DEFENDER, CONSOLE], {seq: 1, ack: 0, flags: TCP_SYN}, area)
    const packet = decodePacket(frame)
    expect(packet.issues?.map((i) => i.code)).toEqual(['geneve.bad-option'])
    expect(packet.tunnels).toBeUndefined()
    expect(packet.tcp).toBeUndefined()
  })

  it('a packet with options keeps them in Packet.tunnels and the inner TCP is decoded', () => {
    const packet = decodePacket(geneveFrame(1, [WORKLOAD, FIREWALL], [DEFENDER, CONSOLE], {seq: 1, ack: 0, flags: TCP_SYN}, MICROPERIMETER))
    expect(packet.issues).toBeUndefined()
    expect(packet.tunnels).toEqual([
      {type: 'geneve', vni: 0xabcd, outerSrc: WORKLOAD, outerDst: FIREWALL, options: [{optionClass: 0x0103, type: 0x20, critical: false, length: 8, data: '00000001', name: 'microperimeter'}]},
    ])
    expect(packet.tcp).toMatchObject({srcPort: DEFENDER.port, dstPort: CONSOLE.port, flags: TCP_SYN})
  })
})

describe('Microperimeter direction, from the outer addresses', () => {
  function trackedTunnels(frame: RawFrame) {
    const tracker = new ConnectionTracker({isServerPort: (port) => port === CONSOLE.port})
    tracker.push(decodePacket(frame))
    const [connection] = tracker.finish()
    return connection!.tunnels
  }

  it("the Defender's SYN went workload -> firewall: the workload is the outer source of the client's packet", () => {
    const tunnels = trackedTunnels(geneveFrame(1, [WORKLOAD, FIREWALL], [DEFENDER, CONSOLE], {seq: 1, ack: 0, flags: TCP_SYN}, MICROPERIMETER))
    expect(tunnels).toHaveLength(1)
    expect(tunnels![0]).toMatchObject({options: [{name: 'microperimeter', data: '00000001'}], direction: 'workload-to-firewall'})
    expect(tunnels![0]!.directionDerivedFrom).toBe(
      `outer addresses: the packet's inner source ${DEFENDER.ip} is the client, so the workload is ${WORKLOAD} (the outer source) and the firewall ${FIREWALL}`,
    )
  })

  it("the Console's SYN-ACK (first packet seen) came firewall -> workload: the workload is its outer destination", () => {
    const tunnels = trackedTunnels(geneveFrame(1, [FIREWALL, WORKLOAD], [CONSOLE, DEFENDER], {seq: 7, ack: 2, flags: TCP_SYN | TCP_ACK}, MICROPERIMETER))
    expect(tunnels![0]).toMatchObject({direction: 'firewall-to-workload', outerSrc: FIREWALL, outerDst: WORKLOAD})
    expect(tunnels![0]!.directionDerivedFrom).toContain(`the packet's inner source ${CONSOLE.ip} is the server, so the workload is ${WORKLOAD} (the outer destination)`)
  })

  it('a tunnel without the Microperimeter option has no direction', () => {
    const tunnels = trackedTunnels(geneveFrame(1, [WORKLOAD, FIREWALL], [DEFENDER, CONSOLE], {seq: 1, ack: 0, flags: TCP_SYN}, option(0x0103, 0x21, [0, 0, 0, 1])))
    expect(tunnels![0]!.direction).toBeUndefined()
    expect(tunnels![0]!.directionDerivedFrom).toBeUndefined()
    expect(tunnels![0]!.options[0]!.name).toBeUndefined()
  })
})

describeWithJa4('GENEVE options of tcpdump-geneve.pcap against tshark', () => {
  const file = join(CORPUS_PCAPS, 'tcpdump-geneve.pcap')

  it('every frame: class, type, critical bit, length and data equal tshark geneve.option.*', async () => {
    requireTool('tshark')
    const run = spawnSync(
      'tshark',
      ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'geneve.option.class', '-e', 'geneve.option.type', '-e', 'geneve.option.type.critical', '-e', 'geneve.option.length', '-e', 'geneve.option'],
      {encoding: 'utf8'},
    )
    expect(run.status, run.stderr).toBe(0)
    const list = (field: string) => (field === '' ? [] : field.split(',').map(Number))
    const fromTshark = run.stdout.trim().split('\n').map((line) => {
      const [frame, classes, types, criticals, lengths, raw] = line.split('|')
      // geneve.option: each option's bytes in hex, its 4-byte header first.
      const data = raw === '' ? [] : raw!.split(',').map((option) => option.slice(8))
      // tshark's first geneve.option.length is the header's Opt Len in bytes (§3.4), then one per option.
      const [optionsAreaLength, ...optionLengths] = list(lengths!)
      return {
        frame: Number(frame),
        optionsAreaLength,
        options: list(types!).map((type, i) => ({optionClass: list(classes!)[i], type, critical: list(criticals!)[i] === 1, length: optionLengths[i], data: data[i]})),
      }
    })
    const {frames} = await loadFrames(file)
    const ours = frames.map((frame) => {
      const options = decodePacket(frame).tunnels?.[0]?.options ?? []
      return {
        frame: frame.index,
        optionsAreaLength: options.reduce((sum, o) => sum + o.length, 0),
        options: options.map(({optionClass, type, critical, length, data}) => ({optionClass, type, critical, length, data})),
      }
    })
    expect(ours).toHaveLength(39)
    expect(ours.filter((f) => f.options.length > 0).length).toBeGreaterThan(0)
    expect(ours).toEqual(fromTshark)
  })
})

describe('replyTunnels: the return leg, kept when it carries GENEVE options', () => {
  const syn = {seq: 1, ack: 0, flags: TCP_SYN}
  const synAck = {seq: 7, ack: 2, flags: TCP_SYN | TCP_ACK}

  it("the Console's SYN-ACK back from the firewall to the workload with the Microperimeter option: firewall -> workload", () => {
    const tracker = new ConnectionTracker({isServerPort: (port) => port === CONSOLE.port})
    tracker.push(decodePacket(geneveFrame(1, [WORKLOAD, FIREWALL], [DEFENDER, CONSOLE], syn, [])))
    tracker.push(decodePacket(geneveFrame(2, [FIREWALL, WORKLOAD], [CONSOLE, DEFENDER], synAck, MICROPERIMETER)))
    tracker.push(decodePacket(geneveFrame(3, [FIREWALL, WORKLOAD], [CONSOLE, DEFENDER], synAck, option(0x0103, 0x20, [0, 0, 0, 2]))))
    const [connection] = tracker.finish()
    expect(connection!.tunnels).toEqual([{type: 'geneve', vni: 0xabcd, outerSrc: WORKLOAD, outerDst: FIREWALL, options: []}])
    expect(connection!.replyTunnels).toHaveLength(1)
    // The first reply with options is kept (frame 2's data, not frame 3's).
    expect(connection!.replyTunnels![0]).toMatchObject({outerSrc: FIREWALL, outerDst: WORKLOAD, options: [{data: '00000001'}], direction: 'firewall-to-workload'})
  })

  it('no replyTunnels when the replies carry no options, or when only the first side sent options', () => {
    const tracker = new ConnectionTracker({isServerPort: (port) => port === CONSOLE.port})
    tracker.push(decodePacket(geneveFrame(1, [WORKLOAD, FIREWALL], [DEFENDER, CONSOLE], syn, MICROPERIMETER)))
    tracker.push(decodePacket(geneveFrame(2, [WORKLOAD, FIREWALL], [DEFENDER, CONSOLE], syn, MICROPERIMETER)))
    tracker.push(decodePacket(geneveFrame(3, [FIREWALL, WORKLOAD], [CONSOLE, DEFENDER], synAck, [])))
    const [connection] = tracker.finish()
    expect(connection!.tunnels![0]!.options).toHaveLength(1)
    expect(connection!.replyTunnels).toBeUndefined()
  })
})
