/**
 * renderHtml rendered for real in headless Chromium (Debian's chromium package; .ci/run installs
 * it), driven over the DevTools protocol with the ws package: the page must load with no console
 * error, no exception and no request besides itself, and its SVG ladder must hold the events of
 * the capture. A throwing script injected into a copy proves the error detection works. Text
 * from the capture is escaped: a <script> in an SNI stays text.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import WebSocket from 'ws'
import {analyzeCapture} from '../../src/analysis/analyze.js'
import {loadCaBundle} from '../../src/analysis/cert-policy.js'
import {buildPolicy} from '../../src/analysis/policy.js'
import type {CaptureReport} from '../../src/model/report.js'
import {renderHtml} from '../../src/report/html.js'
import {FIXTURES, ROOT} from '../helpers/paths.js'

const CHROMIUM = process.env.CHROMIUM ?? 'chromium'
/** The README's screenshot; the test rewrites it only when asked (UPDATE_DOCS=1), else shoots into a temporary folder. */
const DOCS_SCREENSHOT = join(ROOT, 'docs', 'timeline-openssl13-nocert.png')

async function analyzeTls(name: string): Promise<CaptureReport> {
  const ca = join(FIXTURES, 'certs', 'console-ca.pem')
  return analyzeCapture(join(FIXTURES, 'tls', name, 'capture.pcap'), {
    policy: buildPolicy({console: 'console.test', caFile: 'fixtures/certs/console-ca.pem'}),
    certificates: {ca: loadCaBundle(ca)},
  })
}

/** A browser page over the DevTools protocol: what the page logged, threw and requested. */
interface PageResult {
  errors: string[]
  requests: string[]
  evaluate<T>(expression: string): Promise<T>
  screenshot(path: string, selector: string): Promise<void>
  close(): Promise<void>
}

class Browser {
  private nextId = 1
  private readonly pending = new Map<number, {resolve(v: any): void; reject(e: Error): void}>()
  private readonly listeners: Array<(msg: any) => void> = []

  private constructor(
    private readonly child: ChildProcess,
    private readonly socket: WebSocket,
    private readonly profile: string,
  ) {
    socket.on('message', (data) => {
      const msg = JSON.parse(String(data))
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id)
        this.pending.delete(msg.id)
        if (msg.error) p?.reject(new Error(`${msg.error.message}`))
        else p?.resolve(msg.result)
      } else for (const listener of this.listeners) listener(msg)
    })
  }

  static async launch(): Promise<Browser> {
    const probe = spawnSync(CHROMIUM, ['--version'], {encoding: 'utf8'})
    if (probe.error || probe.status !== 0) {
      throw new Error(`headless Chromium is needed for the HTML report test and '${CHROMIUM}' did not run (${probe.error?.message ?? probe.stderr}): install it with 'apt-get install -y chromium' (npm run test:fresh does), or set CHROMIUM=/path/to/chromium`)
    }
    const profile = mkdtempSync(join(tmpdir(), 'dc-chromium-'))
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank']
    const child = spawn(CHROMIUM, args, {stdio: ['ignore', 'ignore', 'pipe']})
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = ''
      const timer = setTimeout(() => reject(new Error(`chromium did not start: ${stderr}`)), 30_000)
      child.stderr!.on('data', (chunk) => {
        stderr += chunk
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr)
        if (match) {
          clearTimeout(timer)
          resolve(match[1])
        }
      })
      child.on('exit', (code) => reject(new Error(`chromium exited (${code}): ${stderr}`)))
    })
    const socket = new WebSocket(url, {perMessageDeflate: false})
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    return new Browser(child, socket, profile)
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<any> {
    const id = this.nextId++
    this.socket.send(JSON.stringify({id, method, params, ...(sessionId ? {sessionId} : {})}))
    return new Promise((resolve, reject) => this.pending.set(id, {resolve, reject}))
  }

  /** Opens `url` in a new tab and waits for its load event; collects errors and requests from the start. */
  async open(url: string): Promise<PageResult> {
    const {targetId} = await this.send('Target.createTarget', {url: 'about:blank'})
    const {sessionId} = await this.send('Target.attachToTarget', {targetId, flatten: true})
    const errors: string[] = []
    const requests: string[] = []
    let loaded!: () => void
    const load = new Promise<void>((resolve) => (loaded = resolve))
    this.listeners.push((msg) => {
      if (msg.sessionId !== sessionId) return
      const p = msg.params
      if (msg.method === 'Runtime.exceptionThrown') errors.push(`exception: ${p.exceptionDetails.exception?.description ?? p.exceptionDetails.text}`)
      if (msg.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) errors.push(`console.${p.type}: ${p.args.map((a: any) => a.value ?? a.description).join(' ')}`)
      if (msg.method === 'Log.entryAdded' && p.entry.level === 'error') errors.push(`log: ${p.entry.text}`)
      if (msg.method === 'Network.requestWillBeSent') requests.push(p.request.url)
      if (msg.method === 'Page.loadEventFired') loaded()
    })
    for (const domain of ['Runtime', 'Log', 'Network', 'Page']) await this.send(`${domain}.enable`, {}, sessionId)
    await this.send('Emulation.setDeviceMetricsOverride', {width: 1200, height: 900, deviceScaleFactor: 1, mobile: false}, sessionId)
    await this.send('Page.navigate', {url}, sessionId)
    await load
    // Let late errors (timers, CSP reports) arrive.
    await new Promise((resolve) => setTimeout(resolve, 300))
    return {
      errors,
      requests,
      evaluate: async (expression) => {
        const result = await this.send('Runtime.evaluate', {expression, returnByValue: true}, sessionId)
        if (result.exceptionDetails) throw new Error(`evaluate failed: ${result.exceptionDetails.text}`)
        return result.result.value
      },
      screenshot: async (path, selector) => {
        const box = await this.send('Runtime.evaluate', {expression: `(() => { const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect(); return JSON.stringify({x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}) })()`, returnByValue: true}, sessionId)
        const r = JSON.parse(box.result.value)
        const {data} = await this.send('Page.captureScreenshot', {format: 'png', captureBeyondViewport: true, clip: {x: r.x, y: r.y, width: r.width, height: r.height, scale: 1}}, sessionId)
        writeFileSync(path, Buffer.from(data, 'base64'))
      },
      close: async () => {
        await this.send('Target.closeTarget', {targetId})
      },
    }
  }

  async close(): Promise<void> {
    await this.send('Browser.close').catch(() => undefined)
    this.socket.close()
    if (this.child.exitCode === null) await new Promise((resolve) => this.child.once('exit', resolve))
    rmSync(this.profile, {recursive: true, force: true})
  }
}

let browser: Browser
const work = mkdtempSync(join(tmpdir(), 'dc-html-'))

beforeAll(async () => {
  browser = await Browser.launch()
}, 60_000)

afterAll(async () => {
  await browser?.close()
  rmSync(work, {recursive: true, force: true})
})

function writePage(name: string, html: string): string {
  const path = join(work, name)
  writeFileSync(path, html)
  return pathToFileURL(path).href
}

describe('renderHtml in headless Chromium', () => {
  it('openssl13-nocert: no console errors, no fetches, the ladder holds the capture, the failing steps red', async () => {
    const report = await analyzeTls('openssl13-nocert')
    const url = writePage('nocert.html', renderHtml(report))
    const page = await browser.open(url)
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
    const page = await browser.open(writePage('throws.html', html))
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
    const page = await browser.open(writePage('evil.html', html))
    expect(page.errors).toEqual([])
    expect(await page.evaluate<number>('document.querySelectorAll("script").length')).toBe(0)
    expect(await page.evaluate<string>('document.title')).not.toBe('pwned')
    expect(await page.evaluate<string>('document.querySelector("g.kind-client-hello text.label").textContent')).toBe(`ClientHello — SNI ${evil}, TLS 1.2`)
    expect(await page.evaluate<string>('document.querySelector("g.from-server.kind-handshake text.label").textContent')).toBe(`Certificate — CN=${evil}`)
    await page.close()
  }, 60_000)

  it('renders a report without connections (the no-traffic advice) and a refused connection', async () => {
    const refused = await analyzeCapture(join(FIXTURES, 'tcp', 'refused', 'refused.pcap'), {policy: buildPolicy({})})
    const page = await browser.open(writePage('refused.html', renderHtml(refused)))
    expect(page.errors).toEqual([])
    expect(await page.evaluate<string[]>('[...document.querySelectorAll("g.event")].map(g => g.dataset.kind + (g.classList.contains("fail") ? "!" : ""))')).toEqual(['syn', 'rst!'])
    await page.close()
    const none = await analyzeCapture(join(FIXTURES, 'tcp', 'other-port-only', 'other-port-only.pcap'), {policy: buildPolicy({})})
    const empty = await browser.open(writePage('none.html', renderHtml(none)))
    expect(empty.errors).toEqual([])
    expect(await empty.evaluate<number>('document.querySelectorAll("svg.ladder").length')).toBe(0)
    expect(await empty.evaluate<string>('document.body.textContent')).toContain('No traffic to the Console port(s) 8084 found')
    await empty.close()
  }, 60_000)
})
