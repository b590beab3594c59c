/**
 * AnalysisReports for the renderer tests, assembled the way analysis/ assembles them: facts
 * (from real captures, see test/checks/tcp-facts.ts) run through the real TCP checks. The TLS
 * check results stand in for checks other people are writing; one of them carries the
 * characters every output format must escape (<>&"'), as a certificate name can.
 */
import type {CaptureReport as AnalysisReport, ConnectionReport as AnyConnectionReport} from '../../src/model/report.js'
import type {ConnectionFacts} from '../../src/model/facts.js'

type ConnectionReport = AnyConnectionReport<ConnectionFacts>
import {runChecks, worstStatus} from '../../src/checks/index.js'
import type {CheckResult} from '../../src/model/checks.js'
import type {Policy} from '../../src/model/policy.js'
import type {CertificateInfo, TlsFacts} from '../../src/protocols/tls/types.js'
import {completedHandshake, refused} from '../checks/tcp-facts.js'

export const POLICY: Policy = {ports: [8084], minTls: '1.3'}

/**
 * The leaf certificate of the JA4 corpus's pcap/badcurveball.pcap frame 7
 * (tshark -e tls.handshake.certificate; openssl x509 -inform der -noout -subject -issuer -dates
 * -serial -fingerprint -sha256 -ext subjectAltName).
 */
export const CURVEBALL_CERTIFICATE: CertificateInfo = {
  subject: 'C=US, O=SANS Internet Storm Center, CN=SANS ISC DShield Test',
  commonName: 'SANS ISC DShield Test',
  issuer: 'C=HR, ST=Zagreb, O=INFIGO IS, CN=INFIGO',
  sans: ['bad.curveballtest.com'],
  serialNumber: '5ecb7cee8ca206bf9ec00728889ad99f4362cfd9',
  notBefore: '2018-03-24T07:15:42.000Z',
  notAfter: '2020-03-23T07:15:42.000Z',
  keyType: 'EC',
  keyBits: 384,
  signatureAlgorithm: 'ecdsa-with-SHA256',
  sha256: '37a074a3c248aef1f27cbd26093f3364765bb01a97e8b3f387f5bf0cd7b4e1b4',
  derBase64: 'MIICYzCCAeqgAwIBAgIUXst87oyiBr+ewAcoiJrZn0Niz9kwCgYIKoZIzj0EAwIwQzELMAkGA1UEBhMCSFIxDzANBgNVBAgMBlphZ3JlYjESMBAGA1UECgwJSU5GSUdPIElTMQ8wDQYDVQQDDAZJTkZJR08wHhcNMTgwMzI0MDcxNTQyWhcNMjAwMzIzMDcxNTQyWjBSMQswCQYDVQQGEwJVUzEjMCEGA1UECgwaU0FOUyBJbnRlcm5ldCBTdG9ybSBDZW50ZXIxHjAcBgNVBAMMFVNBTlMgSVNDIERTaGllbGQgVGVzdDB2MBAGByqGSM49AgEGBSuBBAAiA2IABB0VtMquviKEPh4rEzsV2k1OPF98L0z3c3rapTldndd8jV9pT8xL9spRXt0veuwTOsYoyXu5xhyFq+NrF/vXb3Mr9vkNH0Xtbip+0ZLbLtN2xUn3CVdYxu3MYUwnnRBwiaOBjzCBjDAJBgNVHRMEAjAAMCAGA1UdEQQZMBeCFWJhZC5jdXJ2ZWJhbGx0ZXN0LmNvbTAdBgNVHQ4EFgQUUUXI8gATbytmUmM/0ynsxWFDTUYwCwYDVR0PBAQDAgXgMDEGA1UdJQQqMCgGCCsGAQUFBwMBBggrBgEFBQcDAgYIKwYBBQUHAwMGCCsGAQUFBwMEMAoGCCqGSM49BAMCA2cAMGQCMALvyFLjUZd3deZrNEy64C0DhiFvXsVmCJMxs9IzaNR9X6oWWRfednmLDwFiFAmTegIwc7W1XUViTteB0x7weERBFwDH1lmDSq1+i7NVeRuNCkQfn9gcbko+9N0/v8HMuLJR',
}

/** A sentence with every character XML and terminals care about. */
export const AWKWARD_SUMMARY = `certificate "SANS ISC DShield Test" <bad.curveballtest.com> is not the Console's name & chains to 'INFIGO'`

function tlsFacts(): TlsFacts {
  return {
    clientHellos: [],
    changeCipherSpec: {},
    alerts: [],
    handshakeMessages: [],
    serverCertificate: {frame: 7, ts: 1579293816.584116, from: 'server', certificates: [CURVEBALL_CERTIFICATE], decrypted: false},
    records: [],
    recordsTruncated: false,
    totals: {
      c2s: {records: 0, bytes: 0, applicationData: 0, applicationDataBytes: 0},
      s2c: {records: 0, bytes: 0, applicationData: 0, applicationDataBytes: 0},
    },
  }
}

const TLS_RESULTS: CheckResult[] = [
  {id: 'tls.version', status: 'pass', confidence: 'observed', summary: 'TLS 1.2 negotiated', evidence: {frames: [6]}},
  {
    id: 'tls.certificate',
    status: 'fail',
    confidence: 'observed',
    summary: AWKWARD_SUMMARY,
    evidence: {frames: [7], values: {sha256: CURVEBALL_CERTIFICATE.sha256, subject: CURVEBALL_CERTIFICATE.subject}},
    hint: 'an intercepting proxy presents its own certificate: exempt the Console address from TLS inspection',
  },
  {
    id: 'tls.client-certificate',
    status: 'skip',
    confidence: 'inferred',
    summary: 'the server did not ask for a client certificate',
    evidence: {frames: []},
  },
  {
    id: 'tls.alerts',
    status: 'warn',
    confidence: 'observed',
    summary: 'warning alert close_notify before the handshake completed',
    evidence: {frames: [9], values: {level: 1, description: 0}},
    hint: 'the server closed early; look at its log',
  },
]

function connectionReport(facts: ReturnType<typeof completedHandshake>, id: number, extra: CheckResult[]): ConnectionReport {
  facts.id = id
  // The TCP checks run for real on the facts; the TLS results are hand-picked to cover every status.
  const checks = [...runChecks(facts, POLICY).filter((check) => check.id.startsWith('tcp.')), ...extra]
  return {id, client: facts.client, server: facts.server, startedAt: facts.startedAt, endedAt: facts.endedAt, facts, checks, verdict: worstStatus(checks)}
}

function report(connections: ConnectionReport[]): AnalysisReport {
  const summary: AnalysisReport['summary'] = {connections: connections.length, pass: 0, fail: 0, warn: 0, skip: 0, verdict: 'pass'}
  for (const connection of connections) for (const check of connection.checks) summary[check.status]++
  if (connections.length === 0 || summary.fail > 0) summary.verdict = 'fail'
  return {
    schemaVersion: 1,
    tool: {name: 'defender-check', version: '0.1.0'},
    source: {kind: 'file', name: 'captures/defender & console.pcap', frames: 11, firstTs: '2020-07-05T20:23:28.621Z', lastTs: '2020-07-05T20:23:28.696Z', issues: []},
    policy: POLICY,
    connections,
    summary,
  }
}

/** #1 a completed handshake (tls-alpn-h2.pcap) with the TLS results above; #2 a refused connection (fixtures/tcp/refused). */
export function sampleReport(): AnalysisReport {
  const handshake = completedHandshake()
  handshake.tls = tlsFacts()
  return report([connectionReport(handshake, 1, TLS_RESULTS), connectionReport(refused(), 2, [])])
}

/** No connection to 8084; what the analyzer remembers of other servers instead. */
export function noTrafficReport(): AnalysisReport {
  const empty = report([])
  empty.summary.reason = 'no TCP traffic to the Console (port 8084) in the capture'
  empty.otherTraffic = {
    servers: [
      {ip: '10.0.0.5', port: 443, packets: 120},
      {ip: '2606:4700::6811:d209', port: 8443, packets: 9},
      {ip: '10.0.0.9', port: 53, packets: 1},
    ],
  }
  return empty
}
