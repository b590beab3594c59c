/**
 * Decryption with a key log, on every TLS fixture (real openssl / node / Python sessions, each
 * with the client's keys.log): the whole pipeline (analyzeCapture with `keys`) must read what
 * tshark reads with the same key log (test/protocols/tls/decrypted-vectors.json, from
 * make-decrypted-vectors.sh) — handshake message types per frame, alerts, certificate names,
 * application data — verify both Finished messages, and give the verdicts of the fixture's
 * "keylog" variant in expected.json. Then one decrypted connection fed split at every byte.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../../src/analysis/analyze.js'
import {loadCaBundle} from '../../../src/analysis/cert-policy.js'
import {buildPolicy, type PolicyInput} from '../../../src/analysis/policy.js'
import {isCaptureFacts, type ConnectionReport} from '../../../src/model/report.js'
import type {ConnectionFacts} from '../../../src/model/facts.js'
import {TlsConnectionReader} from '../../../src/protocols/tls/connection.js'
import type {TlsFacts} from '../../../src/protocols/tls/types.js'
import {parseKeyLog} from '../../../src/keys/keylog.js'
import {KeyStore} from '../../../src/keys/store.js'
import type {Direction} from '../../../src/stream/types.js'
import {FIXTURES, ROOT} from '../../helpers/paths.js'
import {directionOf, streamVector} from './streams.js'
import {fromHex} from './vectors.js'

interface TsharkFrame {
  frame: number
  direction: Direction
  handshakeTypes: number[]
  alerts: number[]
  x509Strings: string[]
  applicationData: string[]
}
interface DecryptedVectors {
  fixtures: Array<{name: string; frames: TsharkFrame[]}>
}
interface ExpectedRun {
  name?: string
  args: string[]
  connections: Array<{server: string; checks: Record<string, {status: string; confidence: string}>}>
}

const vectors = JSON.parse(readFileSync(join(ROOT, 'test', 'protocols', 'tls', 'decrypted-vectors.json'), 'utf8')) as DecryptedVectors
const TLS_FIXTURES = join(FIXTURES, 'tls')

function keyStore(keyLogPath: string): KeyStore {
  const keys = new KeyStore()
  keys.addFile(keyLogPath, parseKeyLog(readFileSync(keyLogPath, 'utf8'), keyLogPath))
  return keys
}

/** The analyze flags the keylog variants use, mapped the way the command maps them. */
function optionsOf(args: string[]): {policy: PolicyInput; ca?: string; keylog: string} {
  const policy: PolicyInput = {}
  let ca: string | undefined
  let keylog: string | undefined
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1]!
    switch (args[i]) {
      case '--console':
        policy.console = value
        break
      case '--min-tls':
        policy.minTls = value
        break
      case '--ca':
        ca = join(ROOT, value)
        policy.caFile = ca
        break
      case '--keylog':
        keylog = join(ROOT, value)
        break
      default:
        throw new Error(`keylog variant uses a flag this test does not map: ${args[i]}`)
    }
  }
  if (keylog === undefined) throw new Error('keylog variant without --keylog')
  return {policy, ca, keylog}
}

/** Attribute values of an RFC 4514-style name as protocols/tls/x509 renders it ("CN=a,O=b"). */
function nameValues(name: string): string[] {
  return name.split(',').map((rdn) => rdn.slice(rdn.indexOf('=') + 1))
}

/** X.509 name strings our facts hold for a frame: CertificateRequest authorities, issuer and subject of each certificate. */
function x509StringsAt(tls: TlsFacts, frame: number): string[] {
  const out: string[] = []
  if (tls.certificateRequest?.frame === frame) out.push(...(tls.certificateRequest.authorities ?? []).flatMap(nameValues))
  for (const message of [tls.serverCertificate, tls.clientCertificate]) {
    if (message?.frame !== frame) continue
    for (const cert of message.certificates) out.push(...nameValues(cert.issuer), ...nameValues(cert.subject))
  }
  return out.sort()
}

const runs = vectors.fixtures.map((fixture) => {
  const expected = JSON.parse(readFileSync(join(TLS_FIXTURES, fixture.name, 'expected.json'), 'utf8')) as {variants?: ExpectedRun[]}
  const variant = expected.variants?.find((v) => v.args.includes('--keylog'))
  if (!variant) throw new Error(`${fixture.name}: expected.json has no --keylog variant`)
  return {fixture, variant}
})

describe('decryption with the fixtures\' key logs agrees with tshark', () => {
  it('covers every TLS fixture', () => {
    expect(runs.map((r) => r.fixture.name)).toEqual([
      'expired', 'expired13', 'hello-retry', 'intercepted', 'node13-mtls', 'node13-noclientcert-requested-optional', 'openssl12-cbc-etm',
      'openssl12-cbc-mte', 'openssl12-cbc-sha384', 'openssl12-mtls', 'openssl12-nocert', 'openssl13-mtls', 'openssl13-nocert', 'python13', 'tls12-only-server', 'wrong-name',
    ])
  })

  describe.each(runs)('$fixture.name', ({fixture, variant}) => {
    const {policy, ca, keylog} = optionsOf(variant.args)
    let report: Awaited<ReturnType<typeof analyzeCapture>>
    let conn: ConnectionReport
    let facts: ConnectionFacts
    let tls: TlsFacts
    const tsharkFrames = fixture.frames
    const tls13 = () => tls.version === 0x0304

    it('analyzes the capture with the key log', async () => {
      report = await analyzeCapture(join(TLS_FIXTURES, fixture.name, 'capture.pcap'), {
        policy: buildPolicy(policy),
        certificates: {ca: ca === undefined ? undefined : loadCaBundle(ca)},
        keys: keyStore(keylog),
      })
      expect(report.connections).toHaveLength(1)
      conn = report.connections[0]!
      if (!isCaptureFacts(conn.facts)) throw new Error('capture analysis gave probe facts')
      facts = conn.facts
      tls = facts.tls!
      // TLS issues only: the fixtures' application data is a plain line, which the HTTP reader chained after decryption reports as not HTTP.
      expect(facts.issues.filter((issue) => issue.code.startsWith('tls.'))).toEqual([])
    })

    it('lists the handshake messages tshark decodes, frame by frame', () => {
      const ours = tls.handshakeMessages.map((m) => ({frame: m.frame, direction: m.direction, type: m.type}))
      const theirs = tsharkFrames.flatMap((f) => f.handshakeTypes.map((type) => ({frame: f.frame, direction: f.direction, type})))
      expect(ours).toEqual(theirs)
      // In TLS 1.3 everything after the ServerHello was read from decrypted records; in TLS 1.2 only the Finished.
      const serverHelloAt = tls.handshakeMessages.findIndex((m) => m.type === 2 && m.frame === tls.serverHello!.frame)
      const decrypted = tls.handshakeMessages.map((m, i) => (tls13() ? i > serverHelloAt : m.type === 20))
      expect(tls.handshakeMessages.map((m) => m.decrypted)).toEqual(decrypted)
    })

    it('verifies every Finished tshark shows', () => {
      const finishedBy = (d: Direction) => tsharkFrames.find((f) => f.direction === d && f.handshakeTypes.includes(20))?.frame
      const server = finishedBy('s2c')
      const client = finishedBy('c2s')
      expect(tls.finished?.server).toEqual(server === undefined ? undefined : expect.objectContaining({frame: server, verified: true}))
      expect(tls.finished?.client).toEqual(client === undefined ? undefined : expect.objectContaining({frame: client, verified: true}))
    })

    it('reads the alerts tshark reads', () => {
      const theirs = tsharkFrames.flatMap((f) => f.alerts.map((description) => ({frame: f.frame, from: f.direction === 'c2s' ? 'client' : 'server', description})))
      expect(tls.alerts.map((a) => ({frame: a.frame, from: a.from, description: a.description}))).toEqual(theirs)
    })

    it('reads the certificate names tshark reads', () => {
      for (const f of tsharkFrames) expect(x509StringsAt(tls, f.frame), `frame ${f.frame}`).toEqual([...f.x509Strings].sort())
    })

    it('decrypts every protected record, or says why not', () => {
      // TLS 1.3: the application_data records; TLS 1.2: every record after the direction's ChangeCipherSpec.
      const afterCcs = {c2s: false, s2c: false}
      const protectedRecords = tls.records.filter((r) => {
        if (tls13()) return r.contentType === 23
        const was = afterCcs[r.direction]
        if (r.contentType === 20) afterCcs[r.direction] = true
        return was
      })
      if (protectedRecords.length === 0) {
        expect(tls.decryption).toBeUndefined()
        return
      }
      expect(tls.decryption).toEqual({keys: 'found', records: protectedRecords.length, failures: 0})
    })

    it('gives the verdicts of the keylog variant', () => {
      const want = variant.connections[0]!
      expect(`${conn.server.ip}:${conn.server.port}`).toBe(want.server)
      for (const [id, check] of Object.entries(want.checks)) {
        const got = conn.checks.find((c) => c.id === id)
        expect({id, status: got?.status, confidence: got?.confidence}, got?.summary).toEqual({id, ...check})
      }
    })
  })
})

describe('decrypted application data', () => {
  it.each(vectors.fixtures.map((f) => f.name))('%s: the bytes tshark decrypts, on the same frames', (name) => {
    const frames = vectors.fixtures.find((f) => f.name === name)!.frames
    const s = streamVector(`${name}/capture.pcap`)
    const got: Array<{frame: number; direction: Direction; hex: string}> = []
    const reader = new TlsConnectionReader({
      keys: keyStore(join(TLS_FIXTURES, name, 'keys.log')),
      onApplicationData: (direction, bytes, ref) => got.push({frame: ref.frame, direction, hex: Buffer.from(bytes).toString('hex')}),
    })
    for (const g of s.segments) reader.data(directionOf(s, g.srcPort), fromHex(g.hex), {frame: g.frame, ts: g.ts})
    expect(got).toEqual(frames.flatMap((f) => f.applicationData.map((hex) => ({frame: f.frame, direction: f.direction, hex}))))
  })
})

describe('a decrypted connection read in pieces (fixtures/tls/hello-retry)', () => {
  const s = streamVector('hello-retry/capture.pcap')
  const keys = keyStore(join(TLS_FIXTURES, 'hello-retry', 'keys.log'))

  function read(chunksOf: (bytes: Uint8Array, segment: number) => Uint8Array[]): {facts: TlsFacts; issues: unknown[]; data: string[]} {
    const data: string[] = []
    const reader = new TlsConnectionReader({keys, onApplicationData: (direction, bytes) => data.push(`${direction}:${Buffer.from(bytes).toString('hex')}`)})
    s.segments.forEach((g, i) => {
      for (const chunk of chunksOf(fromHex(g.hex), i)) reader.data(directionOf(s, g.srcPort), chunk, {frame: g.frame, ts: g.ts})
    })
    return {facts: reader.facts(), issues: reader.issues, data}
  }

  const whole = read((bytes) => [bytes])
  // Compared as JSON: tens of thousands of deep comparisons of certificate-laden facts are slow.
  const wholeJson = JSON.stringify(whole)

  it('decrypts the whole connection', () => {
    expect(whole.issues).toEqual([])
    expect(whole.facts.decryption).toEqual({keys: 'found', records: 14, failures: 0})
    expect(whole.facts.finished).toEqual({server: expect.objectContaining({frame: 9, verified: true}), client: expect.objectContaining({frame: 10, verified: true})})
    expect(whole.data.map((d) => Buffer.from(d.slice(4), 'hex').toString())).toEqual(['hello from defender\n', 'hello from console\n'])
  })

  it('gives the same facts and data for every split point of every segment', () => {
    let splits = 0
    s.segments.forEach((segment, index) => {
      const length = segment.hex.length / 2
      for (let at = 1; at < length; at++) {
        const got = read((bytes, i) => (i === index ? [bytes.subarray(0, at), bytes.subarray(at)] : [bytes]))
        splits++
        if (JSON.stringify(got) !== wholeJson) expect(got, `segment ${index} split at ${at}`).toEqual(whole)
      }
    })
    expect(splits).toBe(s.segments.reduce((n, g) => n + g.hex.length / 2 - 1, 0))
  })

  it('gives the same facts and data fed one byte at a time', () => {
    expect(read((bytes) => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)))).toEqual(whole)
  })
})
