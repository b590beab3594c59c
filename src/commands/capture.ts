import {Flags} from '@oclif/core'
import {DEFAULT_CONSOLE_PORT} from '../analysis/policy.js'
import type {AnalysisReport} from '../model/report.js'
import {BaseCommand} from '../cli/base-command.js'
import {runCapture} from '../cli/capture-run.js'
import {deliverReport} from '../cli/command-run.js'
import {durationFlag, probeFlags, reportFlags, stabilityFlags, verdictFlags} from '../cli/flags.js'

export default class Capture extends BaseCommand {
  static override summary = 'Capture live with tcpdump and check the Defender ↔ Console connections as they happen.'

  static override description = `Runs tcpdump -i IFACE -U --immediate-mode -w - FILTER (default filter: TCP on the Console port(s)) and analyzes its output as analyze does, showing progress on stderr on a terminal. Stops on --duration, --count or Ctrl-C (tcpdump is stopped with SIGINT, the analysis finishes and the report is printed). Needs tcpdump and root or CAP_NET_RAW.

With --probe URL it captures only the probe's own connection, runs the probe (the probe command's options apply) and reports the probe's view (#1) and the wire's view of the same connection (#2) side by side. The probe's TLS secrets are written to a key log and the wire view is analyzed with them: --keylog FILE or -w FILE (then FILE.keylog) keep it and the report says where; without either it goes to a private temporary directory removed when the run ends, failed or not: the decrypted Certificate, both Finished messages and the 101 are read, every check observed. HTTPS_PROXY is ignored with --probe: the probe connects directly.

-w FILE saves the capture as tcpdump writes it (classic pcap); with --probe, as pcapng carrying the probe's keys in a Decryption Secrets Block, which Wireshark opens decrypted.

Connections are also grouped by Defender, as analyze does (see analyze --help): channel.stability per Defender, with --storm-attempts, --storm-window, --idle-cut-sessions and --stopped-after.

Exit codes: 0 every connection passed (warnings allowed, unless --strict); 1 a check failed (or warned, with --strict) or no Console traffic was captured; 3 inconclusive: nothing failed but a connection's handshake was not captured (it was already open when the capture started); 2 usage or input error (tcpdump missing, no permission, no such interface, bad filter).`

  static override examples = [
    {description: 'Watch the Defender\'s connections for a minute, saving the capture', command: '<%= config.bin %> <%= command.id %> --duration 1m -w defender.pcap'},
    {description: 'Prove the connection on the wire with the Defender\'s certificates', command: '<%= config.bin %> <%= command.id %> --probe wss://console.example.com:8084/ --defender-certs /var/lib/twistlock/certificates'},
    {description: 'On the Console host for 10 minutes: which Defenders flap, storm or stop (a Defender silent for 3 minutes has stopped)', command: '<%= config.bin %> <%= command.id %> --duration 10m --stopped-after 3m --all'},
    {description: 'Only eth0, SaaS Console on 443, until Ctrl-C', command: '<%= config.bin %> <%= command.id %> -i eth0 --port 443'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    interface: Flags.string({char: 'i', description: 'interface to capture on ("any": all)', default: 'any'}),
    filter: Flags.string({description: 'BPF filter for tcpdump, one argument [default: tcp and (port 8084 ...), from --port]'}),
    port: Flags.string({char: 'p', description: `Console port; repeat or comma-separate for several, "any" for every TCP port [default: ${DEFAULT_CONSOLE_PORT}; SaaS: 443]`, multiple: true, multipleNonGreedy: true}),
    console: Flags.string({char: 'c', description: 'the Console: an IP address restricts to connections to it; a host name selects by TLS SNI and is the name the server certificate must carry'}),
    pin: Flags.string({description: 'expected SHA-256 fingerprint of the Console certificate, as sha256:HEX'}),
    duration: durationFlag('stop after this long (e.g. 30s, 5m)'),
    count: Flags.integer({description: 'stop after this many packets', min: 1}),
    write: Flags.string({char: 'w', description: 'also save the capture to this file: as tcpdump writes it (pcap); with --probe as pcapng carrying the probe\'s TLS keys in a Decryption Secrets Block, so Wireshark opens it decrypted'}),
    probe: Flags.string({description: 'run the probe against this URL (wss://host:port/ or host[:port]) and analyze exactly its connection', exclusive: ['filter', 'count', 'duration', 'port', 'console', 'pin']}),
    ...probeFlags,
    ...verdictFlags,
    ...stabilityFlags,
    ...reportFlags,
  }

  public async run(): Promise<AnalysisReport> {
    const {flags} = await this.parse(Capture)
    this.noteIgnoredWithJson(flags)
    const run = await runCapture(flags, this.jsonEnabled())
    return deliverReport(run, {html: flags.html, json: this.jsonEnabled()})
  }
}
