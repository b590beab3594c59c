/**
 * Test-side derivations of real captures into variants no tool on this host writes: big-endian
 * files (byte-swapped headers of a little-endian capture), Simple / obsolete Packet Blocks and
 * binary timestamp resolutions. Each derivation is cross-checked against tshark where used.
 * Only little-endian input is accepted; anything unexpected throws, so a derivation cannot
 * silently produce a file that tests nothing.
 */

export interface Block {
  type: number
  /** The block body: everything between the leading total length and the trailing one. */
  body: Uint8Array
}

/** Splits a little-endian single- or multi-section pcapng file into blocks. */
export function pcapngBlocks(file: Uint8Array): Block[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const blocks: Block[] = []
  for (let off = 0; off < file.length; ) {
    const type = view.getUint32(off, true)
    const length = view.getUint32(off + 4, true)
    if (type === 0x0a0d0d0a && view.getUint32(off + 8, true) !== 0x1a2b3c4d) throw new Error('not little-endian')
    blocks.push({type, body: file.subarray(off + 8, off + length - 4)})
    off += length
  }
  return blocks
}

/** Writes blocks as a pcapng file in the given byte order (bodies must already be in it). */
export function writePcapng(blocks: Block[], littleEndian = true): Uint8Array {
  const total = blocks.reduce((sum, block) => sum + 12 + block.body.length, 0)
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  let off = 0
  for (const {type, body} of blocks) {
    if (body.length % 4 !== 0) throw new Error('unpadded block body')
    const length = 12 + body.length
    view.setUint32(off, type, littleEndian)
    view.setUint32(off + 4, length, littleEndian)
    out.set(body, off + 8)
    view.setUint32(off + length - 4, length, littleEndian)
    off += length
  }
  return out
}

/** pcapng option list (code, value) in little-endian, terminated by opt_endofopt. */
export function encodeOptions(options: Array<[code: number, value: Uint8Array]>): Uint8Array {
  const parts: number[] = []
  for (const [code, value] of options) {
    parts.push(code & 0xff, code >> 8, value.length & 0xff, value.length >> 8, ...value)
    while (parts.length % 4 !== 0) parts.push(0)
  }
  parts.push(0, 0, 0, 0)
  return Uint8Array.from(parts)
}

/** Options of a body whose option list starts at `start`, as (code, value) pairs. */
export function decodeOptions(body: Uint8Array, start: number): Array<[number, Uint8Array]> {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const options: Array<[number, Uint8Array]> = []
  for (let pos = start; pos + 4 <= body.length; ) {
    const code = view.getUint16(pos, true)
    const length = view.getUint16(pos + 2, true)
    if (code === 0) break
    options.push([code, body.subarray(pos + 4, pos + 4 + length)])
    pos += 4 + ((length + 3) & ~3)
  }
  return options
}

function swap(bytes: Uint8Array, off: number, size: 2 | 4 | 8): void {
  bytes.subarray(off, off + size).reverse()
}

/** Classic pcap, byte-swapped: file header fields and every record header. */
export function swapPcap(le: Uint8Array): Uint8Array {
  const out = new Uint8Array(le)
  const view = new DataView(le.buffer, le.byteOffset, le.byteLength)
  if (view.getUint32(0, true) !== 0xa1b2c3d4 && view.getUint32(0, true) !== 0xa1b23c4d) throw new Error('not little-endian pcap')
  for (const [off, size] of [[0, 4], [4, 2], [6, 2], [8, 4], [12, 4], [16, 4], [20, 4]] as const) swap(out, off, size)
  for (let off = 24; off < le.length; ) {
    const caplen = view.getUint32(off + 8, true)
    for (let field = 0; field < 16; field += 4) swap(out, off + field, 4)
    off += 16 + caplen
  }
  return out
}

/**
 * Which option values are numbers (swapped) per block type (pcapng §4): the rest are strings or
 * bytes. Options not listed for a block throw.
 */
const NUMERIC_OPTIONS: Record<number, Record<number, Array<2 | 4 | 8>>> = {
  // SHB: opt_comment 1, shb_hardware 2, shb_os 3, shb_userappl 4: strings.
  0x0a0d0d0a: {1: [], 2: [], 3: [], 4: []},
  // IDB: if_name 2, if_description 3, if_tsresol 9 (one byte), if_filter 11, if_os 12: no swap.
  0x00000001: {1: [], 2: [], 3: [], 9: [], 11: [], 12: []},
  // EPB: epb_flags 2 is a 32-bit word.
  0x00000006: {1: [], 2: [4]},
  // ISB: isb_starttime 2 / isb_endtime 3 are two 32-bit words; counters 4-8 are 64-bit.
  0x00000005: {1: [], 2: [4, 4], 3: [4, 4], 4: [8], 5: [8], 6: [8], 7: [8], 8: [8]},
  // DSB: no options expected.
  0x0000000a: {},
}

/** The fixed fields (sizes) after the block length, per block type. */
const FIXED_FIELDS: Record<number, Array<2 | 4 | 8>> = {
  0x0a0d0d0a: [4, 2, 2, 8],
  0x00000001: [2, 2, 4],
  0x00000006: [4, 4, 4, 4, 4],
  0x00000005: [4, 4, 4],
  0x0000000a: [4, 4],
}

/** A little-endian pcapng file, byte-swapped into a big-endian one. */
export function swapPcapng(le: Uint8Array): Uint8Array {
  const blocks = pcapngBlocks(le).map(({type, body}) => {
    const fixed = FIXED_FIELDS[type]
    const numeric = NUMERIC_OPTIONS[type]
    if (fixed === undefined || numeric === undefined) throw new Error(`cannot swap block type ${type}`)
    const out = new Uint8Array(body)
    let pos = 0
    for (const size of fixed) {
      swap(out, pos, size)
      pos += size
    }
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength)
    if (type === 0x00000006) pos += (view.getUint32(16, true) + 3) & ~3 // packet data
    if (type === 0x0000000a) pos += (view.getUint32(4, true) + 3) & ~3 // secrets data
    while (pos + 4 <= body.length) {
      const code = view.getUint16(pos, true)
      const length = view.getUint16(pos + 2, true)
      swap(out, pos, 2)
      swap(out, pos + 2, 2)
      if (code === 0) break
      const sizes = numeric[code]
      if (sizes === undefined) throw new Error(`cannot swap option ${code} of block type ${type}`)
      let valuePos = pos + 4
      for (const size of sizes) {
        swap(out, valuePos, size)
        valuePos += size
      }
      pos += 4 + ((length + 3) & ~3)
    }
    return {type, body: out}
  })
  return writePcapng(blocks, false)
}
