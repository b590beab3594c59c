/**
 * The digests behind JA3/JA3S (MD5) and JA4 (SHA-256). A Console-side capture holds thousands
 * of connections from the same Defender build, whose hellos give the same fingerprint strings:
 * each distinct string is hashed once (node:crypto's one-shot hash(), ~2x cheaper than
 * createHash().update().digest()) and remembered, up to MAX_REMEMBERED strings per algorithm.
 */
import {hash} from 'node:crypto'

const MAX_REMEMBERED = 4096

class RememberedDigests {
  private readonly digests = new Map<string, string>()

  constructor(private readonly algorithm: 'md5' | 'sha256') {}

  hex(text: string): string {
    let digest = this.digests.get(text)
    if (digest === undefined) {
      digest = hash(this.algorithm, text, 'hex')
      // A capture of many different clients: start over rather than grow without bound.
      if (this.digests.size >= MAX_REMEMBERED) this.digests.clear()
      this.digests.set(text, digest)
    }
    return digest
  }
}

const md5Digests = new RememberedDigests('md5')
const sha256Digests = new RememberedDigests('sha256')

/** MD5 of the string's UTF-8 bytes, as hex. */
export function md5Hex(text: string): string {
  return md5Digests.hex(text)
}

/** SHA-256 of the string's UTF-8 bytes, as hex. */
export function sha256Hex(text: string): string {
  return sha256Digests.hex(text)
}

const HEX4: string[] = []

/** A 16-bit value as four lower-case hex digits, as JA4 lists ciphers and extensions. */
export function hex4(value: number): string {
  return (HEX4[value] ??= value.toString(16).padStart(4, '0'))
}
