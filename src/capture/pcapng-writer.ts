/**
 * A pcapng writer for what `capture --probe -w FILE` keeps: one section, one interface, the TLS
 * key log as a Decryption Secrets Block, then the frames — a file Wireshark (and tshark, and our
 * own reader) opens decrypted with no key log option (pcapng spec, draft-ietf-opsawg-pcapng:
 * §4.1 SHB, §4.2 IDB, §4.7 DSB, §4.3 EPB). Little-endian, nanosecond timestamps (if_tsresol 9).
 */
import {writeFile} from 'node:fs/promises'
import {DSB_TLS_KEY_LOG, type RawFrame} from './types.js'

const SHB = 0x0a0d0d0a
const IDB = 0x00000001
const EPB = 0x00000006
const DSB = 0x0000000a
const BYTE_ORDER_MAGIC = 0x1a2b3c4d
/** IDB option if_tsresol (§4.2): 10^-9 s. */
const OPT_IF_TSRESOL = 9
const OPT_END = 0

export interface PcapngContents {
  linkType: number
  /** 0 = unlimited. */
  snaplen: number
  frames: readonly RawFrame[]
  /** An NSS key log (SSLKEYLOGFILE text) to embed as a Decryption Secrets Block. */
  tlsKeyLog?: Uint8Array
}

/** The file's bytes. */
export function encodePcapng(contents: PcapngContents): Uint8Array {
  const blocks: Uint8Array[] = [sectionHeader(), interfaceDescription(contents.linkType, contents.snaplen)]
  if (contents.tlsKeyLog && contents.tlsKeyLog.length > 0) blocks.push(decryptionSecrets(contents.tlsKeyLog))
  for (const frame of contents.frames) blocks.push(enhancedPacket(frame))
  return Buffer.concat(blocks)
}

export async function writePcapng(path: string, contents: PcapngContents): Promise<void> {
  await writeFile(path, encodePcapng(contents), {mode: 0o600})
}

/** A block: type, total length, body (padded to 32 bits), total length again (§3.1). */
function block(type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3
  const total = 12 + padded
  const out = Buffer.alloc(total)
  out.writeUInt32LE(type, 0)
  out.writeUInt32LE(total, 4)
  out.set(body, 8)
  out.writeUInt32LE(total, total - 4)
  return out
}

function sectionHeader(): Uint8Array {
  const body = Buffer.alloc(16)
  body.writeUInt32LE(BYTE_ORDER_MAGIC, 0)
  body.writeUInt16LE(1, 4) // major version
  body.writeUInt16LE(0, 6) // minor version
  body.writeBigInt64LE(-1n, 8) // section length: not specified
  return block(SHB, body)
}

function interfaceDescription(linkType: number, snaplen: number): Uint8Array {
  const body = Buffer.alloc(8 + 8 + 4)
  body.writeUInt16LE(linkType, 0)
  body.writeUInt32LE(snaplen, 4)
  // if_tsresol: code 9, length 1, value 9 (nanoseconds), padded to 4 bytes; then opt_endofopt.
  body.writeUInt16LE(OPT_IF_TSRESOL, 8)
  body.writeUInt16LE(1, 10)
  body.writeUInt8(9, 12)
  body.writeUInt16LE(OPT_END, 16)
  body.writeUInt16LE(0, 18)
  return block(IDB, body)
}

function decryptionSecrets(secrets: Uint8Array): Uint8Array {
  const body = Buffer.alloc(8 + ((secrets.length + 3) & ~3))
  body.writeUInt32LE(DSB_TLS_KEY_LOG, 0)
  body.writeUInt32LE(secrets.length, 4)
  body.set(secrets, 8)
  return block(DSB, body)
}

function enhancedPacket(frame: RawFrame): Uint8Array {
  const body = Buffer.alloc(20 + ((frame.data.length + 3) & ~3))
  const ns = BigInt(frame.tsSec) * 1_000_000_000n + BigInt(frame.tsNsec)
  body.writeUInt32LE(0, 0) // interface id
  body.writeUInt32LE(Number(ns >> 32n), 4)
  body.writeUInt32LE(Number(ns & 0xffffffffn), 8)
  body.writeUInt32LE(frame.data.length, 12)
  body.writeUInt32LE(frame.origLen, 16)
  body.set(frame.data, 20)
  return block(EPB, body)
}
