/**
 * `npm run bench`: times `defender-check analyze` against tshark and tcpdump on two generated
 * captures (bench/README.md says how they are made), after checking that our connection and
 * handshake counts agree with tshark's. Needs tshark, tcpdump and GNU time (/usr/bin/time,
 * Debian package `time`) for peak RSS. Our CLI runs from dist/ (built first), not through tsx.
 *
 *   npm run bench               ~1 GiB mixed capture + 100,000-connection Console capture
 *                               + (c) 100,000 connections from 5,000 reconnecting Defenders
 *   npm run bench -- --smoke    ~20 MB + 2,000 connections + (c) 2,000 from 100 Defenders, seconds (CI)
 *   --baseline-cli PATH         (c) also with another build's bin/run.js (one without the
 *                               per-Defender view): both figures, the ratio and issue 18's targets
 *   --fleet-only                (c) alone
 */
import {spawnSync} from 'node:child_process'
import {availableParallelism} from 'node:os'
import {closeSync, existsSync, mkdirSync, openSync, readSync, statSync, writeFileSync, createReadStream} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {generateConsole, generateFleet, generateMixed} from './generate.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DATA = join(ROOT, 'bench', 'data')
const TEMPLATE = join(ROOT, 'fixtures', 'tls', 'openssl13-mtls', 'capture.pcap')
const TIME = '/usr/bin/time'
const MB = 1e6
/** Issue 6's time targets: (a) at this many bytes a second; (b) within this multiple of (a)'s time per byte. */
const TARGET_A_BYTES_PER_SECOND = 1.5e9
const TARGET_B_PER_BYTE_MULTIPLE = 2

interface Run {
  tool: string
  seconds: number
  /** User + system CPU seconds (GNU time): less moved than wall time by other processes on a shared machine. */
  cpuSeconds?: number
  rssMB: number
  stdout: string
}

interface Counts {
  connections: number
  clientHellos: number
  serverHellos: number
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(1)
}

function requireTools(): void {
  for (const [tool, hint] of [
    [TIME, 'GNU time: apt-get install time'],
    ['tshark', 'apt-get install tshark'],
    ['tcpdump', 'apt-get install tcpdump'],
  ] as const) {
    const probe = spawnSync(tool, tool === TIME ? ['-V'] : ['--version'], {encoding: 'utf8'})
    if (probe.error) fail(`${tool} is needed (${hint})`)
  }
}

function build(): void {
  const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {cwd: ROOT, encoding: 'utf8'})
  if (tsc.status !== 0) {
    if (!existsSync(join(ROOT, 'dist', 'commands', 'analyze.js'))) fail(`build failed:\n${tsc.stdout}${tsc.stderr}`)
    process.stderr.write('bench: warning: tsc reported errors (dist was still emitted); measuring dist as built\n')
  }
}

/** Runs `argv` under GNU time -v, stdout to `out`; wall time from our clock, peak RSS from time. */
function timed(tool: string, argv: string[], out: string): Run {
  const fd = openSync(out, 'w')
  const started = process.hrtime.bigint()
  const child = spawnSync(TIME, ['-v', ...argv], {cwd: ROOT, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', maxBuffer: 64 << 20})
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  closeSync(fd)
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(child.stderr)
  if (child.error || rss === null) fail(`${tool} did not run: ${child.error?.message ?? child.stderr.slice(-500)}`)
  if (child.status !== 0 && !(tool.startsWith('defender-check') && child.status === 1)) fail(`${tool} exited ${child.status}: ${child.stderr.slice(-800)}`)
  const user = /User time \(seconds\): ([\d.]+)/.exec(child.stderr)
  const system = /System time \(seconds\): ([\d.]+)/.exec(child.stderr)
  const cpuSeconds = user && system ? Number(user[1]) + Number(system[1]) : undefined
  return {tool, seconds, ...(cpuSeconds !== undefined ? {cpuSeconds} : {}), rssMB: (Number(rss[1]) * 1024) / MB, stdout: out}
}

/** The faster of `n` runs (the machine may be busy; the best run is the least disturbed). */
function best(n: number, run: () => Run): Run {
  let fastest: Run | undefined
  for (let i = 0; i < n; i++) {
    const r = run()
    if (fastest === undefined || r.seconds < fastest.seconds) fastest = {...r, rssMB: Math.max(r.rssMB, fastest?.rssMB ?? 0)}
    else fastest.rssMB = Math.max(fastest.rssMB, r.rssMB)
  }
  return fastest!
}

async function warm(path: string): Promise<void> {
  for await (const _ of createReadStream(path, {highWaterMark: 8 << 20}));
}

function readText(path: string): string {
  return spawnSync('cat', [path], {encoding: 'utf8', maxBuffer: 1 << 30}).stdout
}

/** Our counts, from the table's big-capture summary. */
function ourCounts(outFile: string): Counts {
  const text = readText(outFile)
  const conns = /^(\d+) connections to the Console:/m.exec(text)
  const tls = /TLS handshakes: (\d+) ClientHello, (\d+) ServerHello/.exec(text)
  if (!conns || !tls) fail(`no summary in our output (${outFile}); fewer than 21 connections?`)
  return {connections: Number(conns[1]), clientHellos: Number(tls[1]), serverHellos: Number(tls[2])}
}

/** tshark's counts from its fields output: streams with a handshake on 8084, ClientHello and ServerHello messages. */
function tsharkCounts(outFile: string): Counts {
  const streams = new Set<string>()
  let clientHellos = 0
  let serverHellos = 0
  for (const line of readText(outFile).split('\n')) {
    const [stream, src, dst, types] = line.split('\t')
    if (stream === undefined || types === undefined || (src !== '8084' && dst !== '8084')) continue
    streams.add(stream)
    for (const type of types.split(',')) {
      if (type === '1') clientHellos++
      else if (type === '2') serverHellos++
    }
  }
  return {connections: streams.size, clientHellos, serverHellos}
}

/** Copies whole records of a classic pcap up to `bytes`, for the flat-memory check. */
function writePrefix(source: string, target: string, bytes: number): void {
  const input = openSync(source, 'r')
  const chunk = Buffer.alloc(bytes)
  const got = readSync(input, chunk, 0, bytes, 0)
  closeSync(input)
  let off = 24
  while (off + 16 <= got) {
    const next = off + 16 + chunk.readUInt32LE(off + 8)
    if (next > got) break
    off = next
  }
  writeFileSync(target, chunk.subarray(0, off))
}

interface FileResult {
  label: string
  path: string
  bytes: number
  ours: Run
  tcpdump: Run
  tshark: Run
  counts: Counts
  /** The same analysis with --format ndjson to a file: every connection written, none kept. */
  ndjson: Run
  /** The same with --format json (the document streamed as connections are decided). */
  json: Run
  /** read-floor.ts: reading and prefiltering alone, in-process time (best of the runs). */
  floorSeconds: number
  /** The table with --jobs 1, 2, … (index + 1 shards): one thread, and the scaling per added shard. */
  jobs: Run[]
  /** What --jobs' default chose for this file (src/shards/analyze-sharded.ts jobsFor). */
  defaultJobs: number
}

/**
 * The JSON document's connections (its top-level array's elements, the only lines that are
 * exactly `    {`) and its summary's count must agree with the table's. Read line by line: (b)'s
 * document is larger than the longest string V8 makes.
 */
async function checkJson(outFile: string, counts: Counts): Promise<void> {
  let elements = 0
  let summary: number | undefined
  let inSummary = false
  for await (const line of createInterface({input: createReadStream(outFile), crlfDelay: Infinity})) {
    if (line === '    {') elements++
    else if (line === '  "summary": {') inSummary = true
    else if (inSummary) {
      summary = Number(/^ {4}"connections": (\d+),$/.exec(line)?.[1])
      inSummary = false
    }
  }
  if (elements !== counts.connections || summary !== counts.connections) {
    fail(`JSON output (${outFile}) lists ${elements} connections and a summary of ${summary}; the table counted ${counts.connections}`)
  }
}

/**
 * NDJSON lines of connections and the summary line's connection count must agree with the
 * table's count (the defender lines between them are not connections). Read line by line: (b)'s
 * output is larger than the longest string V8 makes.
 */
async function checkNdjson(outFile: string, counts: Counts): Promise<void> {
  let connectionLines = 0
  let last = ''
  for await (const line of createInterface({input: createReadStream(outFile), crlfDelay: Infinity})) {
    if (line === '') continue
    if (line.startsWith('{"type":"connection"')) connectionLines++
    last = line
  }
  const summary = JSON.parse(last) as {type: string; connections: number}
  if (summary.type !== 'summary' || summary.connections !== counts.connections || connectionLines !== counts.connections) {
    fail(`NDJSON output (${outFile}) has ${connectionLines} connection lines and a summary of ${summary.connections}; the table counted ${counts.connections}`)
  }
}

async function measureFile(label: string, path: string, runs: number): Promise<FileResult> {
  const bytes = statSync(path).size
  await warm(path)
  const name = relative(ROOT, path)
  process.stderr.write(`bench: ${label}: ${(bytes / MB).toFixed(0)} MB, running defender-check, tcpdump, tshark...\n`)
  const ours = best(runs, () => timed('defender-check', [process.execPath, 'bin/run.js', 'analyze', name, '--format', 'table'], `${path}.ours.txt`))
  const tcpdump = best(runs, () => timed('tcpdump', ['tcpdump', '-r', name, '-w', '/dev/null', 'tcp port 8084'], `${path}.tcpdump.txt`))
  const tshark = timed(
    'tshark',
    ['tshark', '-r', name, '-d', 'tcp.port==8084,tls', '-Y', 'tls.handshake', '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tls.handshake.type'],
    `${path}.tshark.txt`,
  )
  const counts = ourCounts(ours.stdout)
  const theirs = tsharkCounts(tshark.stdout)
  if (counts.connections !== theirs.connections || counts.clientHellos !== theirs.clientHellos || counts.serverHellos !== theirs.serverHellos) {
    fail(
      `${label}: counts disagree, no figures printed. defender-check: ${JSON.stringify(counts)}; tshark: ${JSON.stringify(theirs)} ` +
        `(outputs in ${relative(ROOT, DATA)})`,
    )
  }
  let floorSeconds = Infinity
  for (let i = 0; i < runs; i++) floorSeconds = Math.min(floorSeconds, readFloor(name))
  // The streamed formats, to a file as the table is: every connection written, none kept.
  const ndjson = best(runs, () => timed('defender-check --format ndjson', [process.execPath, 'bin/run.js', 'analyze', name, '--format', 'ndjson'], `${path}.ours.ndjson`))
  await checkNdjson(`${path}.ours.ndjson`, counts)
  const json = best(runs, () => timed('defender-check --format json', [process.execPath, 'bin/run.js', 'analyze', name, '--format', 'json'], `${path}.ours.json`))
  await checkJson(`${path}.ours.json`, counts)
  // One thread, and each number of shards up to the cores (at least 3: a third on a 2-core
  // machine shows what oversubscribing costs), each the same table as the default run's.
  const jobs: Run[] = []
  for (let n = 1; n <= Math.max(3, availableParallelism()); n++) {
    const out = `${path}.ours-jobs${n}.txt`
    jobs.push(best(runs, () => timed(`defender-check --jobs ${n}`, [process.execPath, 'bin/run.js', 'analyze', name, '--format', 'table', '--jobs', String(n)], out)))
    if (readText(out) !== readText(ours.stdout)) fail(`${label}: --jobs ${n} wrote another table than the default run (${relative(ROOT, out)} against ${relative(ROOT, ours.stdout)})`)
  }
  const {jobsFor} = (await import(pathToFileURL(join(ROOT, 'dist', 'shards', 'jobs.js')).href)) as typeof import('../src/shards/jobs.js')
  const {buildPolicy} = (await import(pathToFileURL(join(ROOT, 'dist', 'analysis', 'policy.js')).href)) as typeof import('../src/analysis/policy.js')
  const defaultJobs = await jobsFor(name, undefined, buildPolicy({}))
  return {label, path, bytes, ours, tcpdump, tshark, counts, floorSeconds, ndjson, json, jobs, defaultJobs}
}

/** read-floor.ts on `path` in a child process: seconds for reading and prefiltering alone. */
function readFloor(path: string): number {
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/read-floor.ts', path], {cwd: ROOT, encoding: 'utf8'})
  if (child.status !== 0) fail(`read-floor.ts failed on ${path}: ${child.stderr.slice(-500)}`)
  return (JSON.parse(child.stdout) as {seconds: number}).seconds
}

/** The CLI's fixed cost: analyze on a capture of 3 frames (Node, oclif and our modules loading). */
function measureStart(runs: number): Run {
  return best(Math.max(3, runs), () => timed('defender-check (start)', [process.execPath, 'bin/run.js', 'analyze', 'fixtures/tcp/refused/refused.pcap', '--format', 'table'], join(DATA, 'start.ours.txt')))
}

type Flat = {half: Run; halfBytes: number; full: Run; fullBytes: number}

function table(results: FileResult[], start: Run, flat?: Flat): string {
  const rows: string[] = [
    '| file | tool | wall s | MB/s | peak RSS MB | ours / this |',
    '|---|---|---:|---:|---:|---:|',
  ]
  for (const r of results) {
    for (const run of [r.ours, r.ndjson, r.json, ...r.jobs, r.tcpdump, r.tshark]) {
      const ratio = run === r.ours ? '1' : `${(r.ours.seconds / run.seconds).toFixed(3)}`
      rows.push(`| ${r.label} | ${run.tool} | ${run.seconds.toFixed(2)} | ${(r.bytes / MB / run.seconds).toFixed(0)} | ${run.rssMB.toFixed(0)} | ${ratio} |`)
    }
  }
  const lines = [rows.join('\n'), '']
  for (const r of results) {
    lines.push(
      `- ${r.label}: ${r.counts.connections} connections, ${r.counts.clientHellos} ClientHello, ${r.counts.serverHellos} ServerHello: ` +
        `defender-check and tshark agree. ours/tcpdump ${(r.ours.seconds / r.tcpdump.seconds).toFixed(2)}x the time, ` +
        `tshark/ours ${(r.tshark.seconds / r.ours.seconds).toFixed(1)}x.`,
    )
  }
  if (results.length === 2) {
    const perByte = (r: FileResult) => r.ours.seconds / r.bytes
    lines.push(`- time per byte, ${results[1]!.label} vs ${results[0]!.label}: ${(perByte(results[1]!) / perByte(results[0]!)).toFixed(2)}x`)
  }
  if (flat) {
    lines.push(
      `- flat memory: ${(flat.halfBytes / MB).toFixed(0)} MB prefix peak RSS ${flat.half.rssMB.toFixed(0)} MB, ` +
        `${(flat.fullBytes / MB).toFixed(0)} MB file ${flat.full.rssMB.toFixed(0)} MB`,
    )
  }
  lines.push(`- CLI start (analyze of a 3-frame capture): ${start.seconds.toFixed(2)} s, peak RSS ${start.rssMB.toFixed(0)} MB; it is part of every wall time above`)
  for (const r of results) lines.push(`- ${r.label}: the default runs (table, NDJSON, JSON) use --jobs' default, here ${r.defaultJobs} shard${r.defaultJobs === 1 ? '' : 's'} (one per core, ${availableParallelism()}, for a file of 64 MiB or more that is mostly Console traffic; else 1)`)
  for (const r of results) {
    const one = r.jobs[0]!
    const scaling = r.jobs.map((run, i) => `${i + 1}: ${run.seconds.toFixed(2)} s (${(run.seconds / one.seconds).toFixed(2)}x${run.cpuSeconds !== undefined ? `, CPU ${run.cpuSeconds.toFixed(1)} s` : ''}, ${run.rssMB.toFixed(0)} MB)`)
    lines.push(`- ${r.label}, the table by shards (--jobs): ${scaling.join('; ')}`)
  }
  for (const r of results) {
    // For context only (the targets are judged on wall time): the analysis itself, start taken away.
    const analysis = r.ours.seconds - start.seconds
    lines.push(`- ${r.label} without the CLI start: ${analysis.toFixed(2)} s, ${(r.bytes / MB / analysis).toFixed(0)} MB/s`)
  }
  for (const r of results) {
    lines.push(
      `- ${r.label}, reading and prefiltering alone (bench/read-floor.ts: no connection tracked, no CLI): ` +
        `${r.floorSeconds.toFixed(2)} s, ${(r.bytes / MB / r.floorSeconds).toFixed(0)} MB/s`,
    )
  }
  if (results.length === 2) lines.push(...budget(results[0]!, results[1]!, start))
  if (results.length === 2) lines.push('', ...targets(results[0]!, results[1]!, flat))
  return lines.join('\n')
}

/**
 * What the time targets leave for the analysis once the CLI start and the read floor are paid:
 * context for the targets table, computed from this run's figures.
 */
function budget(a: FileResult, b: FileResult, start: Run): string[] {
  const aTarget = a.bytes / TARGET_A_BYTES_PER_SECOND
  const bTarget = TARGET_B_PER_BYTE_MULTIPLE * (b.bytes / a.bytes) * aTarget
  const left = (target: number, r: FileResult) => target - start.seconds - r.floorSeconds
  const perConnection = (seconds: number) => `${((seconds / b.counts.connections) * 1e6).toFixed(1)} µs`
  return [
    `- budget: (a) at ${TARGET_A_BYTES_PER_SECOND / 1e9} GB/s is ${aTarget.toFixed(2)} s of wall time; CLI start + read floor take ${(start.seconds + a.floorSeconds).toFixed(2)} s of it, ` +
      `leaving ${left(aTarget, a).toFixed(2)} s for ${a.counts.connections} connections (this run: ${(a.ours.seconds - start.seconds - a.floorSeconds).toFixed(2)} s)`,
    `- budget: (b) at ${TARGET_B_PER_BYTE_MULTIPLE}x the per-byte time of (a) at that rate is ${bTarget.toFixed(2)} s; CLI start + read floor take ${(start.seconds + b.floorSeconds).toFixed(2)} s, ` +
      `leaving ${perConnection(left(bTarget, b))} per connection (this run: ${perConnection(b.ours.seconds - start.seconds - b.floorSeconds)})`,
  ]
}

/**
 * Issue 21's targets (what a user waits for, as ratios of this run's figures), each with what
 * this run measured: met or not.
 */
function targets(a: FileResult, b: FileResult, flat?: Flat): string[] {
  const row = (target: string, measured: string, met: boolean) => `| ${target} | ${measured} | ${met ? 'met' : '**not met**'} |`
  const rss = (r: FileResult) => `table ${r.ours.rssMB.toFixed(0)}, JSON ${r.json.rssMB.toFixed(0)}, NDJSON ${r.ndjson.rssMB.toFixed(0)} MB`
  const maxRss = (r: FileResult) => Math.max(r.ours.rssMB, r.json.rssMB, r.ndjson.rssMB)
  const rows = [
    '| target | this run | |',
    '|---|---|---|',
    row('(b) --jobs default <= 0.5x --jobs 1', `${b.ours.seconds.toFixed(2)} s / ${b.jobs[0]!.seconds.toFixed(2)} s = ${(b.ours.seconds / b.jobs[0]!.seconds).toFixed(2)}x`, b.ours.seconds <= 0.5 * b.jobs[0]!.seconds),
    row('(b) <= 8x tcpdump', `${(b.ours.seconds / b.tcpdump.seconds).toFixed(2)}x`, b.ours.seconds <= 8 * b.tcpdump.seconds),
    row('(a) <= 3x tcpdump', `${(a.ours.seconds / a.tcpdump.seconds).toFixed(2)}x`, a.ours.seconds <= 3 * a.tcpdump.seconds),
    row('(a) >= 50x faster than tshark', `${(a.tshark.seconds / a.ours.seconds).toFixed(1)}x`, a.tshark.seconds >= 50 * a.ours.seconds),
    row('(b) >= 50x faster than tshark', `${(b.tshark.seconds / b.ours.seconds).toFixed(1)}x`, b.tshark.seconds >= 50 * b.ours.seconds),
    row('(b) NDJSON <= 1.3x the table', `${(b.ndjson.seconds / b.ours.seconds).toFixed(2)}x`, b.ndjson.seconds <= 1.3 * b.ours.seconds),
    row('(a) peak RSS <= 150 MB, every format', rss(a), maxRss(a) <= 150),
    row('(b) peak RSS <= 250 MB, every format', rss(b), maxRss(b) <= 250),
  ]
  if (flat) rows.push(row('(a) RSS flat when the file doubles', `${flat.half.rssMB.toFixed(0)} -> ${flat.full.rssMB.toFixed(0)} MB`, flat.full.rssMB <= flat.half.rssMB * 1.15))
  return rows
}

/** Issue 18's targets for the per-Defender view: at most this much slower, and this many MB more peak RSS, than a build without it. */
const TARGET_VIEW_TIME_RATIO = 1.1
const TARGET_VIEW_RSS_MB = 50

interface FleetResult {
  label: string
  bytes: number
  connections: number
  defenders: number
  ours: Run
  baseline?: Run
  /** --smoke: the NDJSON output's defender lines (0 from a build without the view). */
  ndjsonDefenderLines?: number
}

/** Connections, ClientHello and ServerHello from a table's summary must all be the generated count. */
function checkFleetCounts(run: Run, connections: number): void {
  const counts = ourCounts(run.stdout)
  if (counts.connections !== connections || counts.clientHellos !== connections || counts.serverHellos !== connections) {
    fail(`${run.tool}: counted ${JSON.stringify(counts)} on a capture of ${connections} complete TLS 1.3 connections (output: ${relative(ROOT, run.stdout)})`)
  }
}

/** NDJSON: a line per connection, a defender line per Defender when the build has the view, the summary last. */
async function countNdjsonLines(outFile: string, connections: number, defenders: number): Promise<number> {
  const types = new Map<string, number>()
  let last = ''
  for await (const line of createInterface({input: createReadStream(outFile), crlfDelay: Infinity})) {
    if (line === '') continue
    const type = /^\{"type":"(\w+)"/.exec(line)?.[1] ?? '?'
    types.set(type, (types.get(type) ?? 0) + 1)
    last = type
  }
  const defenderLines = types.get('defender') ?? 0
  if (types.get('connection') !== connections || last !== 'summary' || (defenderLines !== 0 && defenderLines !== defenders)) {
    fail(`NDJSON output (${outFile}): ${JSON.stringify(Object.fromEntries(types))} lines, expected ${connections} connection lines, 0 or ${defenders} defender lines and the summary last`)
  }
  return defenderLines
}

/**
 * (c): ours and, with --baseline-cli, the baseline build on the same file, run in turn (so that
 * the machine's load drifts over both alike), best of `runs` each. tshark is not run here: the
 * connections are (b)'s template, whose counts tshark checks; the counts must equal the generated ones.
 */
async function measureFleet(label: string, path: string, connections: number, defenders: number, runs: number, baselineCli: string | undefined, withNdjson: boolean): Promise<FleetResult> {
  const bytes = statSync(path).size
  await warm(path)
  const name = relative(ROOT, path)
  process.stderr.write(`bench: ${label}: ${(bytes / MB).toFixed(0)} MB, running defender-check${baselineCli ? ' and the baseline' : ''}...\n`)
  let ours: Run | undefined
  let baseline: Run | undefined
  // The fastest run's wall time, the least CPU time and the highest peak RSS of the runs.
  const keepBest = (kept: Run | undefined, r: Run): Run => {
    if (kept === undefined) return r
    const best = r.seconds < kept.seconds ? r : kept
    const cpu = Math.min(r.cpuSeconds ?? Infinity, kept.cpuSeconds ?? Infinity)
    return {...best, ...(cpu < Infinity ? {cpuSeconds: cpu} : {}), rssMB: Math.max(r.rssMB, kept.rssMB)}
  }
  for (let i = 0; i < runs; i++) {
    ours = keepBest(ours, timed('defender-check', [process.execPath, 'bin/run.js', 'analyze', name, '--format', 'table'], `${path}.ours.txt`))
    if (baselineCli !== undefined) {
      baseline = keepBest(baseline, timed('defender-check (baseline)', [process.execPath, baselineCli, 'analyze', name, '--format', 'table'], `${path}.baseline.txt`))
    }
  }
  checkFleetCounts(ours!, connections)
  if (baseline !== undefined) checkFleetCounts(baseline, connections)
  const result: FleetResult = {label, bytes, connections, defenders, ours: ours!, ...(baseline ? {baseline} : {})}
  if (withNdjson) {
    timed('defender-check --format ndjson', [process.execPath, 'bin/run.js', 'analyze', name, '--format', 'ndjson'], `${path}.ours.ndjson`)
    result.ndjsonDefenderLines = await countNdjsonLines(`${path}.ours.ndjson`, connections, defenders)
  }
  return result
}

function fleetTable(r: FleetResult, baselineCli: string | undefined): string {
  const rows = ['| file | tool | wall s | CPU s | MB/s | peak RSS MB | ours / this |', '|---|---|---:|---:|---:|---:|---:|']
  for (const run of [r.ours, ...(r.baseline ? [r.baseline] : [])]) {
    rows.push(
      `| ${r.label} | ${run.tool} | ${run.seconds.toFixed(2)} | ${run.cpuSeconds?.toFixed(2) ?? '-'} | ${(r.bytes / MB / run.seconds).toFixed(0)} | ${run.rssMB.toFixed(0)} | ${run === r.ours ? '1' : (r.ours.seconds / run.seconds).toFixed(3)} |`,
    )
  }
  const lines = [rows.join('\n'), '']
  lines.push(`- ${r.label}: ${r.connections} connections from ${r.defenders} Defenders, every one counted with its ClientHello and ServerHello${r.baseline ? ' by both builds' : ''} (the template of (b), whose counts tshark checks)`)
  if (r.ndjsonDefenderLines !== undefined) {
    lines.push(`- ${r.label}, NDJSON: ${r.connections} connection lines, ${r.ndjsonDefenderLines} defender lines${r.ndjsonDefenderLines === 0 ? ' (this build has no per-Defender view)' : ''}, the summary last`)
  }
  if (r.baseline === undefined) {
    lines.push('- the per-Defender view\'s cost is not measured: pass --baseline-cli PATH (bin/run.js of a build without it) to compare')
    return lines.join('\n')
  }
  const ratio = r.ours.seconds / r.baseline.seconds
  const rss = r.ours.rssMB - r.baseline.rssMB
  const row = (target: string, measured: string, met: boolean) => `| ${target} | ${measured} | ${met ? 'met' : '**not met**'} |`
  lines.push(
    `- baseline: ${baselineCli}`,
    '',
    '| target (issue 18) | this run | |',
    '|---|---|---|',
    row(`(c) with the view <= ${Math.round((TARGET_VIEW_TIME_RATIO - 1) * 100)}% slower than without`, `${ratio.toFixed(3)}x (${r.ours.seconds.toFixed(2)} s vs ${r.baseline.seconds.toFixed(2)} s)`, ratio <= TARGET_VIEW_TIME_RATIO),
    ...(r.ours.cpuSeconds !== undefined && r.baseline.cpuSeconds !== undefined
      ? [row(`(c) CPU time (user + sys) with the view <= ${Math.round((TARGET_VIEW_TIME_RATIO - 1) * 100)}% more than without`, `${(r.ours.cpuSeconds / r.baseline.cpuSeconds).toFixed(3)}x (${r.ours.cpuSeconds.toFixed(2)} s vs ${r.baseline.cpuSeconds.toFixed(2)} s)`, r.ours.cpuSeconds <= TARGET_VIEW_TIME_RATIO * r.baseline.cpuSeconds)]
      : []),
    row(`(c) peak RSS within ${TARGET_VIEW_RSS_MB} MB of without`, `${rss >= 0 ? '+' : ''}${rss.toFixed(0)} MB (${r.ours.rssMB.toFixed(0)} vs ${r.baseline.rssMB.toFixed(0)} MB)`, rss <= TARGET_VIEW_RSS_MB),
  )
  return lines.join('\n')
}

function optionValue(name: string): string | undefined {
  const at = process.argv.indexOf(name)
  if (at < 0) return undefined
  const value = process.argv[at + 1]
  if (value === undefined || value.startsWith('--')) fail(`${name} needs a value`)
  return value
}

async function main(): Promise<void> {
  const smoke = process.argv.includes('--smoke')
  const fleetOnly = process.argv.includes('--fleet-only')
  const baselineArg = optionValue('--baseline-cli')
  const baselineCli = baselineArg !== undefined ? resolve(baselineArg) : undefined
  if (baselineCli !== undefined && !existsSync(baselineCli)) fail(`--baseline-cli ${baselineArg}: no such file (the bin/run.js of a built checkout)`)
  requireTools()
  mkdirSync(DATA, {recursive: true})
  build()
  const fleet = smoke ? {file: 'fleet-100x2k.pcap', connections: 2000, defenders: 100} : {file: 'fleet-5kx100k.pcap', connections: 100_000, defenders: 5000}
  const fleetFile = join(DATA, fleet.file)
  if (!existsSync(fleetFile)) {
    process.stderr.write(`bench: generating ${relative(ROOT, fleetFile)}...\n`)
    generateFleet(fleetFile, fleet.connections, fleet.defenders, TEMPLATE)
  }
  const fleetLabel = `(c) fleet ${fleet.defenders} Defenders, ${smoke ? '2k' : '100k'} conns, ${(statSync(fleetFile).size / MB).toFixed(0)} MB`
  const c = await measureFleet(fleetLabel, fleetFile, fleet.connections, fleet.defenders, smoke ? 1 : 2, baselineCli, smoke)
  const fleetText = fleetTable(c, baselineCli)
  if (fleetOnly) {
    process.stdout.write(`${fleetText}\n`)
    writeFileSync(join(DATA, smoke ? 'results-fleet-smoke.md' : 'results-fleet.md'), `${fleetText}\n`)
    return
  }
  const mixed = join(DATA, smoke ? 'mixed-20m.pcap' : 'mixed-1g.pcap')
  const consoleFile = join(DATA, smoke ? 'console-2k.pcap' : 'console-100k.pcap')
  if (!existsSync(mixed)) {
    process.stderr.write(`bench: generating ${relative(ROOT, mixed)}...\n`)
    generateMixed(mixed, smoke ? 20 * MB : 2 ** 30, TEMPLATE)
  }
  if (!existsSync(consoleFile)) {
    process.stderr.write(`bench: generating ${relative(ROOT, consoleFile)}...\n`)
    generateConsole(consoleFile, smoke ? 2000 : 100_000, TEMPLATE)
  }
  const runs = smoke ? 1 : 2
  const size = (path: string) => `${(statSync(path).size / MB).toFixed(0)} MB`
  const a = await measureFile(`(a) mixed ${size(mixed)}`, mixed, runs)
  const b = await measureFile(`(b) Console ${smoke ? '2k' : '100k'} conns, ${size(consoleFile)}`, consoleFile, runs)
  const start = measureStart(runs)
  let flat
  if (!smoke) {
    const half = join(DATA, 'mixed-half.pcap')
    if (!existsSync(half)) writePrefix(mixed, half, Math.floor(a.bytes / 2))
    await warm(half)
    const halfRun = timed('defender-check', [process.execPath, 'bin/run.js', 'analyze', relative(ROOT, half), '--format', 'table'], `${half}.ours.txt`)
    flat = {half: halfRun, halfBytes: statSync(half).size, full: a.ours, fullBytes: a.bytes}
  }
  const text = `${table([a, b], start, flat)}\n\n${fleetText}`
  process.stdout.write(`${text}\n`)
  writeFileSync(join(DATA, smoke ? 'results-smoke.md' : 'results.md'), `${text}\n`)
}

await main()
