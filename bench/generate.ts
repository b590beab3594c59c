/**
 * Generates the benchmark captures (see bench/README.md):
 *  - mixed: a classic pcap of mixed traffic (Ethernet, IPv4 and IPv6, thousands of concurrent
 *    flows on common ports, DNS over UDP, frames of 60-1514 bytes) in which ~3% of the packets
 *    are Defender→Console connections to 8084;
 *  - console: a Console-side capture of N short connections to 8084 from thousands of Defenders.
 * Every Console connection is the real TLS 1.3 mutual-TLS connection of
 * fixtures/tls/openssl13-mtls/capture.pcap replayed with new addresses, ports, ISNs, TCP
 * timestamps and an RTT, its segments cut to the Ethernet MSS. Flows are interleaved by time
 * (a heap of per-flow next-send times), so the file reads like a real capture. Seeded: the same
 * arguments give the same bytes.
 */
import {readTemplate, type ConnectionTemplate, type TemplateSegment} from './template.js'
import {PcapWriter, type Host} from './write.js'

const TCP_FIN = 0x01
const TCP_SYN = 0x02
const TCP_PSH = 0x08
const TCP_ACK = 0x10
const CONSOLE_PORT = 8084
/** 2026-01-15T10:00:00Z */
const START_TS = 1_768_471_200

/** xorshift32: reproducible and fast. */
class Random {
  constructor(private state: number) {}
  next(): number {
    let x = this.state
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.state = x >>> 0
    return this.state / 4294967296
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  u32(): number {
    this.next()
    return this.state
  }
}

interface Flow {
  nextTs: number
  /** Packets the flow will write in all. */
  readonly packets: number
  /** Writes the flow's next packet; false when the flow is over. */
  emit(out: PcapWriter): boolean
}

/** Min-heap of flows by nextTs. */
class FlowHeap {
  readonly items: Flow[] = []
  get size(): number {
    return this.items.length
  }
  peek(): Flow | undefined {
    return this.items[0]
  }
  push(flow: Flow): void {
    const a = this.items
    let i = a.push(flow) - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (a[p]!.nextTs <= flow.nextTs) break
      a[i] = a[p]!
      i = p
    }
    a[i] = flow
  }
  pop(): Flow {
    const a = this.items
    const top = a[0]!
    const last = a.pop()!
    if (a.length > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= a.length) break
        const r = l + 1
        const c = r < a.length && a[r]!.nextTs < a[l]!.nextTs ? r : l
        if (a[c]!.nextTs >= last.nextTs) break
        a[i] = a[c]!
        i = c
      }
      a[i] = last
    }
    return top
  }
}

const SYN_OPTIONS = Uint8Array.from([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7])
const DATA_OPTIONS = Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 1])

/** Largest TCP payload in a 1514-byte frame with 12 bytes of options. */
function mssFor(v6: boolean, optionBytes: number): number {
  return 1514 - 14 - (v6 ? 40 : 20) - 20 - optionBytes
}

/** The template with payloads over the Ethernet MSS cut into several segments. */
function segmentTemplate(template: ConnectionTemplate, v6: boolean): TemplateSegment[] {
  const out: TemplateSegment[] = []
  for (const s of template.segments) {
    const mss = mssFor(v6, s.options.length)
    if (s.payload.length <= mss) {
      out.push(s)
      continue
    }
    for (let at = 0; at < s.payload.length; at += mss) {
      const last = at + mss >= s.payload.length
      out.push({...s, relSeq: s.relSeq + at, flags: last ? s.flags : s.flags & ~(TCP_PSH | TCP_FIN), payload: s.payload.subarray(at, at + mss), ts: s.ts + at * 1e-8})
    }
  }
  return out
}

/** A replayed TLS 1.3 Defender→Console connection. */
class ConsoleFlow implements Flow {
  nextTs: number
  readonly packets: number
  private i = 0
  private readonly clientIsn: number
  private readonly serverIsn: number
  private readonly clientTs: number
  private readonly serverTs: number
  private readonly times: number[]

  /**
   * `hold`: the session kept open `seconds` longer, idle, before the segment at index `at`
   * (the fleet capture's Defenders hold their sessions minutes, not the template's 1.5 s).
   */
  constructor(
    private readonly segments: TemplateSegment[],
    private readonly client: Host,
    private readonly server: Host,
    private readonly clientPort: number,
    start: number,
    rng: Random,
    hold?: {at: number; seconds: number},
  ) {
    this.clientIsn = rng.u32()
    this.serverIsn = rng.u32()
    this.clientTs = rng.u32()
    this.serverTs = rng.u32()
    // The loopback template has µs RTTs: each turn of the conversation waits half a network RTT.
    const rtt = 0.0002 + rng.next() * 0.02
    this.times = []
    let turns = 0
    for (let k = 0; k < segments.length; k++) {
      if (k > 0 && segments[k]!.fromClient !== segments[k - 1]!.fromClient) turns++
      this.times.push(start + segments[k]!.ts + (turns * rtt) / 2 + (hold !== undefined && k >= hold.at ? hold.seconds : 0))
    }
    this.nextTs = this.times[0]!
    this.packets = segments.length
  }

  /** When its last segment is sent. */
  get lastTs(): number {
    return this.times[this.times.length - 1]!
  }

  emit(out: PcapWriter): boolean {
    const s = this.segments[this.i]!
    const c = s.fromClient
    out.tcp(
      this.nextTs,
      c ? this.client : this.server,
      c ? this.server : this.client,
      {
        srcPort: c ? this.clientPort : CONSOLE_PORT,
        dstPort: c ? CONSOLE_PORT : this.clientPort,
        seq: s.relSeq + (c ? this.clientIsn : this.serverIsn),
        ack: (s.flags & TCP_ACK) !== 0 ? s.relAck + (c ? this.serverIsn : this.clientIsn) : 0,
        flags: s.flags,
        window: s.window,
        options: s.options,
        mss: mssFor(this.client.v6, 0),
        tsValOffset: c ? this.clientTs : this.serverTs,
        tsEcrOffset: c ? this.serverTs : this.clientTs,
      },
      s.payload,
    )
    this.i++
    if (this.i >= this.segments.length) return false
    this.nextTs = this.times[this.i]!
    return true
  }
}

/** Bulk TCP (the server sends, the client ACKs every second segment), opened and closed properly. */
class BulkFlow implements Flow {
  nextTs: number
  readonly packets: number
  private step = 0
  private clientSeq: number
  private serverSeq: number
  private readonly segments: number
  private sent = 0
  private fin = 0
  private readonly gap: number
  private readonly mss: number

  constructor(
    private readonly client: Host,
    private readonly server: Host,
    private readonly clientPort: number,
    private readonly serverPort: number,
    start: number,
    private readonly rng: Random,
    private readonly pool: Uint8Array,
  ) {
    this.nextTs = start
    this.clientSeq = rng.u32()
    this.serverSeq = rng.u32()
    this.segments = rng.int(4, 300)
    this.gap = 0.0005 + rng.next() * 0.01
    this.mss = mssFor(client.v6, DATA_OPTIONS.length)
    this.packets = 7 + this.segments + Math.ceil(this.segments / 2)
  }

  private send(out: PcapWriter, fromClient: boolean, flags: number, payload: Uint8Array, options = DATA_OPTIONS): void {
    const c = fromClient
    out.tcp(this.nextTs, c ? this.client : this.server, c ? this.server : this.client, {
      srcPort: c ? this.clientPort : this.serverPort,
      dstPort: c ? this.serverPort : this.clientPort,
      seq: c ? this.clientSeq : this.serverSeq,
      ack: (flags & TCP_ACK) !== 0 ? (c ? this.serverSeq : this.clientSeq) : 0,
      flags,
      window: 502,
      options,
      mss: this.mss + DATA_OPTIONS.length,
    }, payload)
    const advance = payload.length + ((flags & (TCP_SYN | TCP_FIN)) !== 0 ? 1 : 0)
    if (c) this.clientSeq = (this.clientSeq + advance) >>> 0
    else this.serverSeq = (this.serverSeq + advance) >>> 0
  }

  emit(out: PcapWriter): boolean {
    const step = this.step++
    const empty = this.pool.subarray(0, 0)
    if (step === 0) this.send(out, true, TCP_SYN, empty, SYN_OPTIONS)
    else if (step === 1) this.send(out, false, TCP_SYN | TCP_ACK, empty, SYN_OPTIONS)
    else if (step === 2) this.send(out, true, TCP_ACK, empty)
    else if (step === 3) this.send(out, true, TCP_ACK | TCP_PSH, this.payload(this.rng.int(40, 600)))
    else if (this.sent < this.segments) {
      if (step % 3 === 0) this.send(out, true, TCP_ACK, empty)
      else {
        const full = this.rng.next() < 0.6
        this.send(out, false, TCP_ACK | (full ? 0 : TCP_PSH), this.payload(full ? this.mss : this.rng.int(1, this.mss)))
        this.sent++
      }
    } else {
      // Server FIN, client FIN, last ACK.
      if (this.fin === 0) this.send(out, false, TCP_FIN | TCP_ACK, empty)
      else if (this.fin === 1) this.send(out, true, TCP_FIN | TCP_ACK, empty)
      else this.send(out, false, TCP_ACK, empty)
      if (++this.fin === 3) return false
    }
    this.nextTs += this.gap * (0.5 + this.rng.next())
    return true
  }

  private payload(length: number): Uint8Array {
    const at = this.rng.int(0, this.pool.length - length)
    return this.pool.subarray(at, at + length)
  }
}

/** A DNS query and its answer. */
class DnsFlow implements Flow {
  nextTs: number
  readonly packets = 2
  private answered = false
  constructor(
    private readonly client: Host,
    private readonly server: Host,
    private readonly clientPort: number,
    start: number,
    private readonly rng: Random,
    private readonly pool: Uint8Array,
  ) {
    this.nextTs = start
  }
  emit(out: PcapWriter): boolean {
    const length = this.answered ? this.rng.int(60, 480) : this.rng.int(30, 80)
    const at = this.rng.int(0, this.pool.length - length)
    const payload = this.pool.subarray(at, at + length)
    if (this.answered) {
      out.udp(this.nextTs, this.server, this.client, 53, this.clientPort, payload)
      return false
    }
    out.udp(this.nextTs, this.client, this.server, this.clientPort, 53, payload)
    this.answered = true
    this.nextTs += 0.0003 + this.rng.next() * 0.02
    return true
  }
}

function v4(a: number, b: number, c: number, d: number): Uint8Array {
  return Uint8Array.from([a, b, c, d])
}

function v6(tail: number, prefix = 0xfd00): Uint8Array {
  const addr = new Uint8Array(16)
  addr[0] = prefix >> 8
  addr[1] = prefix & 0xff
  addr[2] = 0x0b
  addr[3] = 0xe0
  addr[12] = (tail >>> 24) & 0xff
  addr[13] = (tail >>> 16) & 0xff
  addr[14] = (tail >>> 8) & 0xff
  addr[15] = tail & 0xff
  return addr
}

function mac(n: number): Uint8Array {
  return Uint8Array.from([0x02, 0x42, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])
}

/** Hosts made once per index so their byte arrays are shared. */
class Hosts {
  private readonly v4 = new Map<number, Host>()
  private readonly v6 = new Map<number, Host>()
  get(index: number, useV6: boolean, make: (i: number) => Uint8Array): Host {
    const table = useV6 ? this.v6 : this.v4
    let host = table.get(index)
    if (host === undefined) table.set(index, (host = {v6: useV6, addr: make(index), mac: mac(index)}))
    return host
  }
}

export interface GenerateResult {
  bytes: number
  frames: number
  consoleConnections: number
}

/** Ephemeral ports per client, as Linux hands them out (32768-60999, increasing). */
class Ports {
  private readonly next = new Map<string, number>()
  constructor(private readonly rng: Random) {}
  take(key: string): number {
    let port = this.next.get(key) ?? this.rng.int(32768, 60000)
    if (port > 60999) port = 32768
    this.next.set(key, port + 1)
    return port
  }
}

function runFlows(path: string, seed: number, arrivalsPerSecond: number, more: (out: PcapWriter, open: number) => boolean, newFlow: (start: number, out: PcapWriter) => Flow): GenerateResult {
  const out = new PcapWriter(path)
  const rng = new Random(seed)
  const heap = new FlowHeap()
  let nextArrival = START_TS
  let open = true
  for (;;) {
    const top = heap.peek()
    if (open && (top === undefined || nextArrival <= top.nextTs)) {
      heap.push(newFlow(nextArrival, out))
      nextArrival += (-Math.log(1 - rng.next()) / arrivalsPerSecond)
      open = more(out, heap.size)
      continue
    }
    if (top === undefined) break
    const flow = heap.pop()
    if (flow.emit(out)) heap.push(flow)
  }
  out.close()
  return {bytes: out.bytes, frames: out.frames, consoleConnections: 0}
}

/** File (a): ~`targetBytes` of mixed traffic, ~3% of packets on 8084. */
export function generateMixed(path: string, targetBytes: number, templatePath: string, seed = 0x5eed0001): GenerateResult {
  const template = readTemplate(templatePath)
  const segments = {v4: segmentTemplate(template, false), v6: segmentTemplate(template, true)}
  const rng = new Random(seed)
  const pool = new Uint8Array(1 << 20)
  // Encrypted-looking payload, without 0x16 so no filler segment can start like a TLS handshake record.
  for (let i = 0; i < pool.length; i++) {
    const b = rng.int(0, 255)
    pool[i] = b === 0x16 ? 0x17 : b
  }
  const hosts = new Hosts()
  const ports = new Ports(rng)
  const serverPorts = [443, 443, 443, 80, 22, 5432, 6379, 9200, 8080, 3306, 8443, 27017]
  const consoleV4: Host = {v6: false, addr: v4(10, 0, 0, 10), mac: mac(0xc0)}
  const consoleV6: Host = {v6: true, addr: v6(0x10, 0xfd00), mac: mac(0xc0)}
  let consolePackets = 0
  let allPackets = 0
  let consoleConnections = 0
  // Open flows still have ~half their ~80 kB to write: stop opening new ones in time to land near the target.
  const more = (out: PcapWriter, open: number) => out.bytes + open * 40_000 < targetBytes
  const result = runFlows(path, seed ^ 0x1234, 1500, more, (start) => {
    const flow = chooseFlow(start)
    allPackets += flow.packets
    return flow
  })
  function chooseFlow(start: number): Flow {
    const useV6 = rng.next() < 0.2
    if (consolePackets < 0.03 * allPackets) {
      consolePackets += segments.v4.length
      consoleConnections++
      const d = rng.int(1, 2000)
      const client = hosts.get(0x0a140000 + d, useV6, (i) => (useV6 ? v6(i) : v4(10, 20, (i >> 8) & 0xff, i & 0xff)))
      return new ConsoleFlow(useV6 ? segments.v6 : segments.v4, client, useV6 ? consoleV6 : consoleV4, ports.take(`c${d}${useV6}`), start, rng)
    }
    const c = rng.int(1, 4000)
    const client = hosts.get(0x0a010000 + c, useV6, (i) => (useV6 ? v6(i) : v4(10, 1, (i >> 8) & 0xff, i & 0xff)))
    if (rng.next() < 0.1) {
      const resolver = hosts.get(0x0a000035, useV6, (i) => (useV6 ? v6(i) : v4(10, 0, 0, 53)))
      return new DnsFlow(client, resolver, ports.take(`d${c}${useV6}`), start, rng, pool)
    }
    const s = rng.int(1, 300)
    const server = hosts.get(0xac100000 + s, useV6, (i) => (useV6 ? v6(i, 0x2001) : v4(172, 16, (i >> 8) & 0xff, i & 0xff)))
    return new BulkFlow(client, server, ports.take(`t${c}${useV6}`), serverPorts[rng.int(0, serverPorts.length - 1)]!, start, rng, pool)
  }
  return {bytes: result.bytes, frames: result.frames, consoleConnections}
}

/** File (b): a Console-side capture of `connections` TLS 1.3 connections to 8084. */
export function generateConsole(path: string, connections: number, templatePath: string, seed = 0x5eed0002): GenerateResult {
  const template = readTemplate(templatePath)
  const segments = segmentTemplate(template, false)
  const rng = new Random(seed)
  const hosts = new Hosts()
  const ports = new Ports(rng)
  const consoleHost: Host = {v6: false, addr: v4(10, 0, 0, 10), mac: mac(0xc0)}
  let made = 0
  const result = runFlows(path, seed ^ 0x4321, 200, () => made < connections, (start) => {
    made++
    const d = rng.int(1, 5000)
    const client = hosts.get(d, false, (i) => v4(10, 20, (i >> 8) & 0xff, i & 0xff))
    return new ConsoleFlow(segments, client, consoleHost, ports.take(String(d)), start, rng)
  })
  return {bytes: result.bytes, frames: result.frames, consoleConnections: made}
}

/**
 * Where a session is held open: before the segment after the template's longest silence once the
 * handshake is done (openssl13-mtls: between the Console's application data at 0.73 s and the
 * client's close_notify at 1.49 s), so the held session is idle and then closed as the template
 * closes it.
 */
function holdPoint(segments: TemplateSegment[]): number {
  let at = 1
  let longest = -1
  for (let k = 4; k < segments.length; k++) {
    const gap = segments[k]!.ts - segments[k - 1]!.ts
    if (gap > longest) {
      longest = gap
      at = k
    }
  }
  return at
}

/**
 * How a fleet Defender behaves (seeded per Defender): most hold sessions for minutes and
 * reconnect after a few seconds; some flap at a regular 60-s lifetime (an idle timeout on the
 * path) and reconnect at once; a few go through a storm of short sessions for five minutes.
 */
interface DefenderBehaviour {
  lifetime(rng: Random, at: number): number
  gap(rng: Random, at: number): number
}

const STEADY: DefenderBehaviour = {
  lifetime: (rng) => 120 + rng.next() * 120,
  gap: (rng) => 0.5 + -Math.log(1 - rng.next()) * 3,
}
const FLAPPING: DefenderBehaviour = {
  lifetime: (rng) => 59.8 + rng.next() * 0.4,
  gap: (rng) => 1 + rng.next() * 2,
}
function storming(from: number): DefenderBehaviour {
  const inStorm = (at: number) => at >= from && at < from + 300
  return {
    lifetime: (rng, at) => (inStorm(at) ? 0 : STEADY.lifetime(rng, at)),
    gap: (rng, at) => (inStorm(at) ? 2 + rng.next() * 4 : STEADY.gap(rng, at)),
  }
}

/** One Defender: its connections one after the other, each started a gap after the previous one ended. */
class DefenderFlow implements Flow {
  nextTs: number
  readonly packets: number
  private current: ConsoleFlow

  constructor(
    private readonly next: (start: number) => ConsoleFlow | undefined,
    first: ConsoleFlow,
  ) {
    this.current = first
    this.nextTs = first.nextTs
    this.packets = first.packets
  }

  emit(out: PcapWriter): boolean {
    if (this.current.emit(out)) {
      this.nextTs = this.current.nextTs
      return true
    }
    const following = this.next(this.current.lastTs)
    if (following === undefined) return false
    this.current = following
    this.nextTs = following.nextTs
    return true
  }
}

/**
 * File (c): a Console-side capture of `connections` TLS 1.3 connections from `defenders`
 * Defender addresses, each Defender reconnecting over time (DefenderBehaviour) for the
 * per-Defender view's bench (issue 18). The same template as (b); the sessions are held open
 * idle for their lifetime, so about one session per Defender is open at any time, as on a
 * Console. Attempts stop once `connections` are made.
 */
export function generateFleet(path: string, connections: number, defenders: number, templatePath: string, seed = 0x5eed0003): GenerateResult & {defenders: number} {
  const template = readTemplate(templatePath)
  const segments = segmentTemplate(template, false)
  const at = holdPoint(segments)
  const templateSeconds = segments[segments.length - 1]!.ts
  const rng = new Random(seed)
  const hosts = new Hosts()
  const ports = new Ports(rng)
  const consoleHost: Host = {v6: false, addr: v4(10, 0, 0, 10), mac: mac(0xc0)}
  const out = new PcapWriter(path)
  const heap = new FlowHeap()
  let made = 0
  for (let d = 1; d <= defenders; d++) {
    const client = hosts.get(d, false, (i) => v4(10, 30, (i >> 8) & 0xff, i & 0xff))
    const kind = rng.next()
    const behaviour = kind < 0.1 ? FLAPPING : kind < 0.12 ? storming(START_TS + rng.next() * 1800) : STEADY
    const connect = (start: number): ConsoleFlow | undefined => {
      if (made >= connections) return undefined
      made++
      const seconds = Math.max(0, behaviour.lifetime(rng, start) - templateSeconds)
      return new ConsoleFlow(segments, client, consoleHost, ports.take(String(d)), start, rng, {at, seconds})
    }
    const first = connect(START_TS + rng.next() * 60)
    if (first === undefined) break
    heap.push(new DefenderFlow((ended) => connect(ended + behaviour.gap(rng, ended)), first))
  }
  for (;;) {
    const flow = heap.peek()
    if (flow === undefined) break
    heap.pop()
    if (flow.emit(out)) heap.push(flow)
  }
  out.close()
  return {bytes: out.bytes, frames: out.frames, consoleConnections: made, defenders}
}
