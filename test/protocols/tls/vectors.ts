/**
 * test/protocols/tls/vectors.json (written by make-vectors.sh from real captures and tshark's decode) and
 * small helpers to read it. Nothing here parses TLS: that is the code under test.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {ROOT} from '../../helpers/paths.js'

export interface HelloVector {
  file: string
  frame: number
  stream: number
  /** TLS bytes of the frame (reassembled PDU when tshark reassembled one). */
  hex: string
  /** tshark fields; multi-valued fields joined by '|'. */
  tshark: Record<string, string>
}

export interface StreamVector {
  file: string
  stream: number
  clientPort: number
  segments: Array<{frame: number; ts: number; srcPort: number; hex: string}>
  tshark: Array<Record<string, string> & {frame: number; srcPort: number}>
}

export interface Vectors {
  clientHellos: HelloVector[]
  serverHellos: HelloVector[]
  streams: StreamVector[]
}

export const vectors: Vectors = JSON.parse(readFileSync(join(ROOT, 'test', 'protocols', 'tls', 'vectors.json'), 'utf8')) as Vectors

export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** A tshark multi-value field as strings ('' → []). */
export function list(value: string | undefined): string[] {
  return value ? value.split('|') : []
}

/** A tshark multi-value numeric field (decimal or 0x hex) as numbers. */
export function nums(value: string | undefined): number[] {
  return list(value).map((v) => Number(v))
}

/**
 * tshark puts a TLS 1.3 protected record's outer type in tls.record.opaque_type, plaintext ones
 * in tls.record.content_type; in these captures the protected records of a frame follow its
 * plaintext ones.
 */
export function tsharkRecordTypes(t: Record<string, string>): number[] {
  return [...nums(t['tls.record.content_type']), ...nums(t['tls.record.opaque_type'])]
}
