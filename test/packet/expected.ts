/** The tables test/packet/make-expected.sh records from tshark, and where their captures are. */
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {CORPUS_PCAPS, FIXTURES, JA4_ABSENT, ja4Corpus} from '../helpers/paths.js'
import {skippedBecause} from '../helpers/skip.js'

export interface ExpectedIp {
  version: 4 | 6
  src: string
  dst: string
  protocol: number
  ttl: number
  fragment?: {id: number; offset: number; moreFragments: boolean}
}

export interface ExpectedTcp {
  srcPort: number
  dstPort: number
  seq: number
  ack: number
  flags: number
  window: number
  payloadLength: number
  /** Absent when the frame holds several TCP headers (tshark's option fields are not per layer). */
  options?: {mss?: number; windowScale?: number; sackPermitted?: boolean; sack?: Array<[number, number]>; tsVal?: number; tsEcr?: number}
}

export interface ExpectedTunnel {
  vni: number
  outerSrc: string
  outerDst: string
  /** GENEVE flags byte (O = 0x80, C = 0x40); GENEVE tunnels only. */
  flags?: number
  protocolType?: number
  /** Hex of each option's data; absent when several GENEVE layers make them ambiguous. */
  options?: Array<{optionClass: number; type: number; data: string}>
}

export interface ExpectedFrame {
  frame: number
  /** Offset in the frame where the outermost IP packet ends (absent: no IP). */
  ipEnd?: number
  vlanIds?: number[]
  ip?: ExpectedIp
  tcp?: ExpectedTcp
  udp?: {srcPort: number; dstPort: number; length: number}
  tunnels?: ExpectedTunnel[]
}

export interface ExpectedCapture {
  /** "corpus:NAME" or "fixtures:PATH". */
  source: string
  linkType: number
  frames: ExpectedFrame[]
}

const EXPECTED_DIR = join(import.meta.dirname, 'expected')

export function expectedCaptures(): ExpectedCapture[] {
  return readdirSync(EXPECTED_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(EXPECTED_DIR, name), 'utf8')) as ExpectedCapture)
}

/**
 * The expected tables whose capture is here: the corpus ones only when the JA4 corpus is present
 * (otherwise one noted skip names them; call it where tests may be registered).
 */
export function presentCaptures(): ExpectedCapture[] {
  const all = expectedCaptures()
  if (ja4Corpus()) return all
  const absent = all.filter((c) => c.source.startsWith('corpus:'))
  if (absent.length > 0) skippedBecause(`${absent.length} corpus captures`, JA4_ABSENT)
  return all.filter((c) => !absent.includes(c))
}

export function capturePath(source: string): string {
  const [kind, name] = source.split(/:(.*)/s) as [string, string]
  return kind === 'corpus' ? join(CORPUS_PCAPS, name) : join(FIXTURES, name)
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex')
}
