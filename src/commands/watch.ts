import {Args, Flags} from '@oclif/core'
import type {AnalysisReport} from '../model/report.js'
import {BaseCommand} from '../cli/base-command.js'
import {deliverReport} from '../cli/command-run.js'
import {durationFlag, probeFlags, verdictFlags} from '../cli/flags.js'
import {runWatch, watchExitCode} from '../cli/watch-run.js'

const {keylog: _keylog, ...sessionFlags} = probeFlags

export default class Watch extends BaseCommand {
  static override summary = 'Hold the channel as a Defender does, record every session and reconnect, and export it to Prometheus.'

  static override description = `Opens the session a Defender opens (TCP, TLS with the Defender's certificate, the WebSocket upgrade), keeps it open and pings it every --ping-interval, and reconnects when it ends, with capped exponential backoff (1 s, 2 s, 4 s … --max-backoff) while attempts fail. Every session is recorded: how long it lived and how it ended (WebSocket close code, TCP RST or FIN, unanswered ping, TLS alert). Every --interval the full probe (the checks of \`probe\`) runs on a fresh connection as well.

It runs until SIGINT or SIGTERM, then closes the session cleanly (close code 1000) and prints the summary: the latest probe and the per-Defender view of the sessions held, with the channel.stability verdict. With -f ndjson, events (session-start, session-end, probe) are written to stdout as they happen, one JSON object a line, for log pipelines. With --listen, /metrics serves the Prometheus metrics (README, "Monitor a fleet"); it shows no secrets.

Exit codes: 0 the latest probe passed and the channel was stable; 1 a check or channel.stability failed; 2 usage or input error.`

  static override examples = [
    {description: 'Watch a Console with the Defender\'s certificates, metrics for Prometheus', command: '<%= config.bin %> <%= command.id %> wss://console.example.com:8084/ --defender-certs /var/lib/twistlock/certificates --listen 0.0.0.0:9464'},
    {description: 'Events as NDJSON for a log pipeline, pinging every 10 s', command: '<%= config.bin %> <%= command.id %> console.example.com --defender-certs /var/lib/twistlock/certificates --ping-interval 10s -f ndjson'},
  ]

  static override enableJsonFlag = true

  static override args = {
    url: Args.string({description: 'the Console: wss://host:port/path, or host[:port] (wss on 8084)', required: true}),
  }

  static override flags = {
    ...sessionFlags,
    'ping-interval': durationFlag('ping the held session this often (RFC 6455 ping/pong)', '30s'),
    'ping-timeout': durationFlag('a ping unanswered this long ends the session [default: --timeout]'),
    interval: durationFlag('run the full probe on a fresh connection this often', '5m'),
    'max-backoff': durationFlag('longest wait between failed attempts (the wait doubles from 1 s)', '60s'),
    listen: Flags.string({description: 'serve Prometheus metrics on http://HOST:PORT/metrics, e.g. 127.0.0.1:9464'}),
    ...verdictFlags,
    format: Flags.string({char: 'f', description: 'events and summary: table (lines for people), json (the summary report only), ndjson (one event a line) [default: table on a terminal, ndjson otherwise]', options: ['table', 'json', 'ndjson']}),
    output: Flags.string({char: 'o', description: 'write the summary report to this file (events still go to stdout)'}),
  }

  public async run(): Promise<AnalysisReport> {
    const {args, flags} = await this.parse(Watch)
    this.noteIgnoredWithJson(flags)
    const run = await runWatch(args.url, flags, this.jsonEnabled())
    const report = await deliverReport(run, {json: this.jsonEnabled()})
    process.exitCode = watchExitCode(run.report)
    return report
  }
}
