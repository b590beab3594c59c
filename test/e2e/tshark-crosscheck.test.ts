/**
 * Cross-check with tshark: every fixture that carries its TLS secrets (a keys.log beside the
 * capture under fixtures/tls and fixtures/wss, or a pcapng Decryption Secrets Block) is analysed
 * with those secrets, and what we read must equal what tshark reads with the same secrets:
 *   - the TLS handshake messages, per direction, in order: type and frame (tshark decrypts TLS 1.3
 *     and the TLS 1.2 Finished too);
 *   - the HTTP status of the upgrade response;
 *   - the WebSocket frames, counted by opcode per direction.
 * tshark is a requirement of this test (CI installs it): without it the test fails saying so.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {ConnectionFacts} from '../../src/model/facts.js'
import {TLS_1_3} from '../../src/protocols/tls/iana/versions.js'
import type {WebSocketOpcodeName} from '../../src/protocols/websocket/types.js'
import {loadKeyStore} from '../../src/keys/store.js'
import type {Direction} from '../../src/stream/types.js'
import {FIXTURES} from '../helpers/paths.js'

/** The Console port of the fixtures; one whose expected.json names another (`--port N`) uses that. */
const DEFAULT_PORT = 8084
const CLIENT_HELLO = 1
const SERVER_HELLO = 2
/** RFC 6455 §11.8 opcodes, as tshark prints websocket.opcode. */
const OPCODES: Record<number, WebSocketOpcodeName> = {0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong'}

interface Case {
  name: string
  capture: string
  keylog?: string
  port: number
}

function portOf(dir: string): number {
  const expected = join(dir, 'expected.json')
  if (!existsSync(expected)) return DEFAULT_PORT
  const args = (JSON.parse(readFileSync(expected, 'utf8')) as {args?: string[]}).args ?? []
  const at = args.indexOf('--port')
  return at >= 0 ? Number(args[at + 1]) : DEFAULT_PORT
}

/** Fixture folders of fixtures/tls and fixtures/wss holding a capture and its secrets. */
function cases(): Case[] {
  const found: Case[] = []
  for (const area of ['tls', 'wss']) {
    for (const entry of readdirSync(join(FIXTURES, area), {withFileTypes: true})) {
      if (!entry.isDirectory()) continue
      const dir = join(FIXTURES, area, entry.name)
      const files = readdirSync(dir)
      const capture = files.find((f) => /\.(pcap|pcapng)$/.test(f))
      if (!capture) continue
      const keylog = files.includes('keys.log') ? join(dir, 'keys.log') : undefined
      // A pcapng made with editcap --inject-secrets carries its own keys.
      if (!keylog && !capture.endsWith('.pcapng')) continue
      found.push({name: relative(FIXTURES, dir), capture: join(dir, capture), keylog, port: portOf(dir)})
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name))
}

function tsharkVersion(): string | undefined {
  try {
    return execFileSync('tshark', ['--version'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).split('\n')[0]
  } catch {
    return undefined
  }
}

interface TsharkView {
  handshake: Record<Direction, Array<{frame: number; type: number}>>
  httpStatus: number[]
  opcodes: Record<Direction, Partial<Record<WebSocketOpcodeName, number>>>
}

/** The command the brief names, plus tcp.srcport to tell the directions apart. */
function tshark(c: Case): TsharkView {
  const out = execFileSync('tshark', [
    '-r', c.capture, '-o', `tls.keylog_file:${c.keylog ?? ''}`, '-d', `tcp.port==${c.port},tls`,
    '-Y', 'tls.handshake || http || websocket', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,',
    '-e', 'frame.number', '-e', 'tcp.srcport', '-e', 'tls.handshake.type', '-e', 'http.response.code', '-e', 'websocket.opcode',
  ], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20})
  const view: TsharkView = {handshake: {c2s: [], s2c: []}, httpStatus: [], opcodes: {c2s: {}, s2c: {}}}
  for (const line of out.split('\n')) {
    if (!line) continue
    const [frame, srcport, types, codes, opcodes] = line.split('\t')
    const direction: Direction = Number(srcport) === c.port ? 's2c' : 'c2s'
    for (const type of list(types)) view.handshake[direction].push({frame: Number(frame), type})
    view.httpStatus.push(...list(codes))
    for (const opcode of list(opcodes)) {
      const name = OPCODES[opcode] ?? 'reserved'
      view.opcodes[direction][name] = (view.opcodes[direction][name] ?? 0) + 1
    }
  }
  return view
}

function list(field: string | undefined): number[] {
  return field ? field.split(',').map(Number) : []
}

async function ours(c: Case): Promise<ConnectionFacts> {
  const keys = c.keylog ? (await loadKeyStore([c.keylog])).store : undefined
  const report = await analyzeCapture(c.capture, {policy: buildPolicy({ports: [String(c.port)]}), keys})
  expect(report.connections, 'one connection per fixture').toHaveLength(1)
  return report.connections[0].facts as ConnectionFacts
}

function opcodeCounts(facts: ConnectionFacts, direction: Direction): Partial<Record<WebSocketOpcodeName, number>> {
  const counts: Partial<Record<WebSocketOpcodeName, number>> = {}
  const byOpcode = facts.ws?.[direction].byOpcode
  if (byOpcode) for (const [name, {frames}] of Object.entries(byOpcode)) if (frames > 0) counts[name as WebSocketOpcodeName] = frames
  return counts
}

const version = tsharkVersion()
const all = cases()

describe('what we decrypt equals what tshark decrypts', () => {
  it('tshark is installed', () => {
    expect(version, 'tshark is not installed: install it (apt-get install tshark, Wireshark 4.x) — this cross-check needs it').toBeDefined()
  })

  it('finds the fixtures with secrets (fixtures/tls and fixtures/wss)', () => {
    expect(all.filter((c) => c.name.startsWith('tls/')).length).toBeGreaterThanOrEqual(10)
    expect(all.filter((c) => c.name.startsWith('wss/')).length).toBeGreaterThanOrEqual(6)
  })

  it.each(all.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    expect(version, 'tshark is not installed: install it (apt-get install tshark) to run this cross-check').toBeDefined()
    const want = tshark(c)
    // Not a vacuous comparison: tshark read the session (it starts with a ClientHello; every wss fixture has an upgrade response).
    expect(want.handshake.c2s[0]?.type, 'tshark saw the ClientHello').toBe(CLIENT_HELLO)
    if (c.name.startsWith('wss/')) expect(want.httpStatus).toHaveLength(1)
    const facts = await ours(c)
    const tls = facts.tls!
    for (const direction of ['c2s', 's2c'] as const) {
      const got = tls.handshakeMessages.filter((m) => m.direction === direction).map((m) => ({frame: m.frame, type: m.type}))
      expect(got, `${direction} handshake messages (frame, type)`).toEqual(want.handshake[direction])
      expect(opcodeCounts(facts, direction), `${direction} WebSocket frames by opcode`).toEqual(want.opcodes[direction])
    }
    // TLS 1.3 encrypts every handshake message after ServerHello (RFC 8446 §2): ours must say it decrypted them.
    if (tls.version === TLS_1_3) {
      for (const m of tls.handshakeMessages) expect(m.decrypted, `${m.typeName} in frame ${m.frame}`).toBe(m.type !== CLIENT_HELLO && m.type !== SERVER_HELLO)
    }
    expect(facts.http?.response ? [facts.http.response.status] : [], 'HTTP response status').toEqual(want.httpStatus)
  })
})
