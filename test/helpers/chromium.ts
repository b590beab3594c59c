/**
 * Headless Chromium (Debian's chromium package; .ci/run installs it) driven over the DevTools
 * protocol with the ws package, for the HTML report tests: a page's console errors, exceptions
 * and requests are collected from the start, expressions evaluated in it, elements screenshot.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll} from 'vitest'
import WebSocket from 'ws'

export const CHROMIUM = process.env.CHROMIUM ?? 'chromium'

/** A browser page over the DevTools protocol: what the page logged, threw and requested. */
export interface PageResult {
  errors: string[]
  requests: string[]
  evaluate<T>(expression: string): Promise<T>
  screenshot(path: string, selector: string): Promise<void>
  close(): Promise<void>
}

export class Browser {
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

/**
 * One browser for a test file: launched before its tests, closed after them, with a scratch
 * folder (removed after) where writePage puts a page and answers its file: URL.
 */
export function useBrowserPages(prefix: string): {readonly browser: Browser; work: string; writePage(name: string, html: string): string} {
  const work = mkdtempSync(join(tmpdir(), prefix))
  let browser: Browser | undefined
  beforeAll(async () => {
    browser = await Browser.launch()
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    rmSync(work, {recursive: true, force: true})
  })
  return {
    get browser(): Browser {
      if (browser === undefined) throw new Error('the browser is launched before the tests (beforeAll)')
      return browser
    },
    work,
    writePage(name: string, html: string): string {
      const path = join(work, name)
      writeFileSync(path, html)
      return pathToFileURL(path).href
    },
  }
}
