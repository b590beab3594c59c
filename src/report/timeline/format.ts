/** Small formatters of the ladder's labels and details. */
import type {Direction, Side} from '../../stream/types.js'
import {nameOf} from '../../protocols/tls/iana/table.js'
import {VERSIONS} from '../../protocols/tls/iana/versions.js'

export function sideOf(direction: Direction): Side {
  return direction === 'c2s' ? 'client' : 'server'
}

export function otherSide(side: Side): Side {
  return side === 'client' ? 'server' : 'client'
}

/** The first bytes of a non-TLS stream: as text when printable (`"CONNECT console."`), else hex. */
export function firstBytesText(hex: string): string {
  const bytes = Buffer.from(hex, 'hex')
  return bytes.length > 0 && bytes.every((b) => b >= 0x20 && b < 0x7f) ? JSON.stringify(bytes.toString('latin1')) : hex
}

/** `client_key_exchange` → `ClientKeyExchange`; unknown types (0x00ab) stay as they are. */
export function messageName(typeName: string): string {
  if (typeName.startsWith('0x')) return `handshake ${typeName}`
  return typeName
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')
}

/** `TLS 1.3/1.2/1.1` from supported_versions (GREASE removed). */
export function versionList(versions: number[]): string {
  const names = versions.map((v) => nameOf(VERSIONS, v))
  return names.map((name, i) => (i > 0 && name.startsWith('TLS ') && names[0].startsWith('TLS ') ? name.slice(4) : name)).join('/')
}

export function formatBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} B`
}

/** `512 B`, `38 KB`, `1.2 MB` for folded runs. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`
  if (bytes < 1_000_000) return `${bytes < 10_000 ? (bytes / 1000).toFixed(1) : Math.round(bytes / 1000)} KB`
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}

/** `850 ms`, `12.3 s`, `5.0 min`. */
export function formatSpan(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`
  if (seconds < 120) return `${seconds.toFixed(1)} s`
  return `${(seconds / 60).toFixed(1)} min`
}

