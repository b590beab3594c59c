import {Args, Flags} from '@oclif/core'
import {DEFAULT_CONSOLE_PORT} from '../analysis/policy.js'
import {CATALOGUE_IDS} from '../checks/index.js'
import type {AnalysisReport} from '../model/report.js'
import {runAnalyze} from '../cli/analyze-run.js'
import {BaseCommand} from '../cli/base-command.js'
import {deliverReport} from '../cli/command-run.js'
import {reportFlags, stabilityFlags, verdictFlags} from '../cli/flags.js'
import {MAX_JOBS, SHARD_MIN_BYTES} from '../shards/jobs.js'

export default class Analyze extends BaseCommand {
  static override summary = 'Check a saved capture: did the Defender reach its Console over TCP, TLS and WebSocket?'

  static override description = `Reads a pcap or pcapng capture (from tcpdump, dumpcap, Wireshark, "-i any"; gzip-compressed is fine; "-" reads stdin), finds every TCP connection to the Console port and reports pass/fail per check per connection: ${CATALOGUE_IDS.join(', ')} (proxy.connect only behind a proxy; path.answered-by only where the capture shows a local proxy, load balancer or injected RST answered).

Connections are also grouped by Defender (client address, refined by the client certificate's subject when visible and the SNI): per Defender its connections, reconnects, session lifetimes, reconnect gaps, who ended each session, and channel.stability (idle-timeout cuts, reconnect storms, a Defender that stopped reconnecting, duplicate identities; thresholds: --storm-attempts, --storm-window, --idle-cut-sessions, --stopped-after). channel.stability does not change the exit code.

Exit codes: 0 every connection passed (warnings allowed, unless --strict); 1 a check failed (or warned, with --strict) or no Console traffic was found; 3 inconclusive: nothing failed but the handshake was not in the capture (it started mid-connection, or the snaplen cut the packets): capture again; 2 usage or input error (unreadable or corrupt file).`

  static override examples = [
    {description: 'Analyze a capture taken on the Defender host', command: '<%= config.bin %> <%= command.id %> defender.pcap'},
    {description: 'SaaS Console on 443, checking the certificate name', command: '<%= config.bin %> <%= command.id %> cap.pcapng --port 443 --console console.example.com'},
    {description: 'Verify the server chain against the Console CA and allow TLS 1.2', command: '<%= config.bin %> <%= command.id %> cap.pcap --ca /var/lib/twistlock/certificates/ca.pem --min-tls 1.2'},
    {description: 'See inside TLS 1.3 with the session keys (Certificate, Finished, the WebSocket upgrade)', command: '<%= config.bin %> <%= command.id %> cap.pcap --keylog keys.log'},
    {description: 'Ladder diagram of every connection, and an HTML report for a support ticket', command: '<%= config.bin %> <%= command.id %> cap.pcap --timeline --html report.html'},
    {description: 'JUnit for CI, from a gzipped capture', command: '<%= config.bin %> <%= command.id %> cap.pcap.gz --format junit --output report.xml'},
    {description: 'A Console-side capture of many Defenders: a reconnect storm is more than 5 attempts in 30 s, a Defender silent for 2 minutes has stopped; every Defender listed', command: '<%= config.bin %> <%= command.id %> console.pcap --storm-attempts 5 --storm-window 30s --stopped-after 2m --all'},
    {description: 'A big Console-side capture on 8 cores, as NDJSON for a log pipeline', command: '<%= config.bin %> <%= command.id %> console.pcap --jobs 8 --format ndjson --output console.ndjson'},
    {description: 'Straight from tcpdump', command: 'tcpdump -i any -w - port 8084 | <%= config.bin %> <%= command.id %> -'},
  ]

  static override enableJsonFlag = true

  static override args = {
    capture: Args.string({description: 'capture file (pcap, pcapng, optionally gzip-compressed), or - for stdin', required: true}),
  }

  static override flags = {
    port: Flags.string({
      char: 'p',
      description: `Console port; repeat or comma-separate for several, "any" for every TCP port [default: ${DEFAULT_CONSOLE_PORT}; SaaS: 443]`,
      multiple: true,
      multipleNonGreedy: true,
    }),
    console: Flags.string({
      char: 'c',
      description: 'the Console: an IP address restricts to connections to it; a host name selects by TLS SNI and is the name the server certificate must carry',
    }),
    'min-tls': Flags.string({description: 'lowest acceptable negotiated TLS version [default: 1.3 passes, 1.2 warns, below fails]', options: ['1.2', '1.3']}),
    // Read by loadCaBundle (as capture does), whose error is one line naming the file: oclif's
    // `exists` check printed "internal error: Parsing --ca" over several lines.
    ca: Flags.string({description: 'PEM bundle of the CA(s) that must have issued the Console certificate'}),
    pin: Flags.string({description: 'expected SHA-256 fingerprint of the Console certificate, as sha256:HEX'}),
    keylog: Flags.string({
      char: 'k',
      description: 'TLS key log (SSLKEYLOGFILE format) to decrypt the handshake and the WebSocket upgrade; repeatable [default: $SSLKEYLOGFILE if set; keys in a pcapng Decryption Secrets Block are used without this flag]',
      multiple: true,
      multipleNonGreedy: true,
    }),
    jobs: Flags.integer({
      char: 'j',
      description: `shards for a capture file (the first on this thread, the others on worker threads): each reads the whole file and analyses its share of the connections; the report is the same, byte for byte, for any number [default: one per core for a file of ${SHARD_MIN_BYTES / 1024 / 1024} MiB or more that is mostly Console traffic, else 1; stdin is always read by one]`,
      min: 1,
      max: MAX_JOBS,
    }),
    ...verdictFlags,
    ...stabilityFlags,
    ...reportFlags,
  }

  public async run(): Promise<AnalysisReport> {
    const {args, flags} = await this.parse(Analyze)
    this.noteIgnoredWithJson(flags)
    const run = await runAnalyze(args.capture, flags, this.jsonEnabled())
    return deliverReport(run, {html: flags.html, json: this.jsonEnabled()})
  }
}
