/**
 * renderHtml rendered for real in headless Chromium (Debian's chromium package; .ci/run installs
 * it), driven over the DevTools protocol with the ws package: the page must load with no console
 * error, no exception and no request besides itself, and its SVG ladder must hold the events of
 * the capture. A throwing script injected into a copy proves the error detection works. Text
 * from the capture is escaped: a <script> in an SNI stays text.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {loadCaBundle} from '../../src/analysis/cert-policy.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {CaptureReport} from '../../src/model/report.js'
import {renderHtml} from '../../src/report/html.js'
import {useBrowserPages} from '../helpers/chromium.js'
import {FIXTURES, ROOT} from '../helpers/paths.js'

/** The README's screenshot; the test rewrites it only when asked (UPDATE_DOCS=1), else shoots into a temporary folder. */
const DOCS_SCREENSHOT = join(ROOT, 'docs', 'timeline-openssl13-nocert.png')

async function analyzeTls(name: string): Promise<CaptureReport> {
  const ca = join(FIXTURES, 'certs', 'console-ca.pem')
  return analyzeCapture(join(FIXTURES, 'tls', name, 'capture.pcap'), {
    policy: buildPolicy({console: 'console.test', caFile: 'fixtures/certs/console-ca.pem'}),
    certificates: {ca: loadCaBundle(ca)},
  })
}

const pages = useBrowserPages('dc-html-')
const {writePage, work} = pages

describe('renderHtml in headless Chromium', () => {
  it('openssl13-nocert: no console errors, no fetches, the ladder holds the capture, the failing steps red', async () => {
    const report = await analyzeTls('openssl13-nocert')
    const url = writePage('nocert.html', renderHtml(report))
    const page = await pages.browser.open(url)
    expect(page.errors).toEqual([])
    expect(page.requests).toEqual([url])
    expect(await page.evaluate<number>('document.querySelectorAll("svg.ladder").length')).toBe(1)
    expect(await page.evaluate<number>('document.querySelectorAll("script").length')).toBe(0)
    // The events of the README's tshark listing, in order, with the side each came from.
    const events = await page.evaluate<Array<[string, string, string]>>(
      '[...document.querySelectorAll("svg.ladder g.event")].map(g => [g.dataset.frame, g.dataset.from, g.dataset.kind])',
    )
    expect(events).toEqual([
      ['1', 'client', 'syn'], ['2', 'server', 'syn-ack'], ['3', 'client', 'ack'], ['4', 'client', 'client-hello'],
      ['6', 'server', 'server-hello'], ['6', 'server', 'change-cipher-spec'], ['6', 'server', 'encrypted-flight'],
      ['8', 'client', 'change-cipher-spec'], ['8', 'client', 'encrypted-flight'], ['9', 'client', 'application-data'],
      ['10', 'server', 'encrypted-alert'], ['11', 'client', 'fin'], ['12', 'server', 'fin'],
    ])
    // Client arrows point right (x1 < x2), the Console's left.
    const directions = await page.evaluate<Array<[string, boolean]>>(
      '[...document.querySelectorAll("svg.ladder g.event")].map(g => { const l = g.querySelector("line.arrow"); return [g.dataset.from, +l.getAttribute("x1") < +l.getAttribute("x2")] })',
    )
    for (const [from, right] of directions) expect(right).toBe(from === 'client')
    expect(await page.evaluate<string[]>('[...document.querySelectorAll("svg.ladder g.event.fail")].map(g => g.dataset.frame)')).toEqual(['8', '10'])
    expect(await page.evaluate<string>('getComputedStyle(document.querySelector("svg.ladder g.fail line.arrow")).stroke')).toBe('rgb(198, 40, 40)')
    // tls.certificate warns (issue 15): --console/--ca were asked for and the certificate is encrypted.
    expect(await page.evaluate<string[]>('[...document.querySelectorAll("svg.ladder text.hint[data-check]")].map(t => t.dataset.check)')).toEqual([
      'tls.certificate', 'tls.client-certificate', 'tls.finished', 'tls.alerts',
    ])
    expect(await page.evaluate<string>('document.querySelector("g.kind-client-hello text.label").textContent')).toBe('ClientHello — SNI console.test, TLS 1.3/1.2/1.1/1.0')
    // The table: a row per check, the three failures as the fixture README states them.
    expect(await page.evaluate<string[]>('[...document.querySelectorAll("table.checks tr.fail")].map(r => r.dataset.check)')).toEqual([
      'tls.client-certificate', 'tls.finished', 'tls.alerts',
    ])
    expect(await page.evaluate<string>('document.getElementById("verdict").textContent')).toContain('FAIL')
    // The screenshot the README shows: the failing connection's ladder.
    const shot = process.env.UPDATE_DOCS === '1' ? DOCS_SCREENSHOT : join(work, 'ladder.png')
    await page.screenshot(shot, 'section#connection-1 figure')
    const png = readFileSync(shot)
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG')
    // IHDR width and height (PNG spec §11.2.2): the whole 960-px ladder, not a cut-off view.
    expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(960)
    expect(png.readUInt32BE(20)).toBeGreaterThan(500)
    await page.close()
  }, 60_000)

  it('detects a page that throws (the same page with a throwing script injected)', async () => {
    const html = renderHtml(await analyzeTls('openssl13-nocert'))
      .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
      .replace('</body>', '<script>throw new Error("injected failure")</script></body>')
    const page = await pages.browser.open(writePage('throws.html', html))
    expect(page.errors.join('\n')).toContain('injected failure')
    await page.close()
  }, 60_000)

  it('escapes a <script> in the SNI and a certificate subject: shown as text, never run', async () => {
    const report = structuredClone(await analyzeTls('openssl12-nocert'))
    const evil = '<script>document.title="pwned"</script>&"\''
    const tls = report.connections[0].facts.tls!
    tls.clientHellos[0].sni = evil
    tls.serverCertificate!.certificates[0].commonName = evil
    tls.serverCertificate!.certificates[0].subject = `CN=${evil}`
    const html = renderHtml(report)
    expect(html).not.toContain('<script')
    expect(html).toContain('&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;&amp;&quot;&#39;')
    const page = await pages.browser.open(writePage('evil.html', html))
    expect(page.errors).toEqual([])
    expect(await page.evaluate<number>('document.querySelectorAll("script").length')).toBe(0)
    expect(await page.evaluate<string>('document.title')).not.toBe('pwned')
    expect(await page.evaluate<string>('document.querySelector("g.kind-client-hello text.label").textContent')).toBe(`ClientHello — SNI ${evil}, TLS 1.2`)
    expect(await page.evaluate<string>('document.querySelector("g.from-server.kind-handshake text.label").textContent')).toBe(`Certificate — CN=${evil}`)
    await page.close()
  }, 60_000)

  it('renders a report without connections (the no-traffic advice) and a refused connection', async () => {
    const refused = await analyzeCapture(join(FIXTURES, 'tcp', 'refused', 'refused.pcap'), {policy: buildPolicy({})})
    const page = await pages.browser.open(writePage('refused.html', renderHtml(refused)))
    expect(page.errors).toEqual([])
    expect(await page.evaluate<string[]>('[...document.querySelectorAll("g.event")].map(g => g.dataset.kind + (g.classList.contains("fail") ? "!" : ""))')).toEqual(['syn', 'rst!'])
    await page.close()
    const none = await analyzeCapture(join(FIXTURES, 'tcp', 'other-port-only', 'other-port-only.pcap'), {policy: buildPolicy({})})
    const empty = await pages.browser.open(writePage('none.html', renderHtml(none)))
    expect(empty.errors).toEqual([])
    expect(await empty.evaluate<number>('document.querySelectorAll("svg.ladder").length')).toBe(0)
    expect(await empty.evaluate<string>('document.body.textContent')).toContain('No traffic to the Console port(s) 8084 found')
    await empty.close()
  }, 60_000)
})
