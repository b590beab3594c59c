import {Args, Flags} from '@oclif/core'
import type {AnalysisReport} from '../model/report.js'
import {BaseCommand} from '../cli/base-command.js'
import {deliverReport} from '../cli/command-run.js'
import {durationFlag, probeFlags, reportFlags, verdictFlags} from '../cli/flags.js'
import {runProbe} from '../cli/probe-run.js'

export default class Probe extends BaseCommand {
  static override summary = 'Connect to the Console as a Defender would: DNS, TCP, TLS (mTLS), WebSocket upgrade, ping.'

  static override description = `Resolves the name (dns.resolve), connects TCP (tcp.syn-ack), optionally through an HTTP proxy's CONNECT (proxy.connect; --proxy or HTTPS_PROXY, NO_PROXY honoured), does the TLS handshake with node:tls (tls.version, tls.certificate, tls.client-certificate, tls.finished, tls.alerts), the WebSocket upgrade (ws.upgrade) and a ping (ws.ping); with --hold it keeps the session open and pings it (ws.session). The check ids are analyze's where they apply; the formats and exit codes are the same.

It also reports what \`certs\` reports for the certificates it used and the Console's chain (certs.lifetime: validity, days left, "stops connecting on DATE"; --warn-days, --fail-days), compares the CA that issued the Defender's certificate with the CA names the Console asks for in its CertificateRequest (certs.requested-ca, read from the probe's own handshake with its TLS secrets), and compares this host's clock with the Console's Date header (clock.skew; --clock-warn, --clock-fail).

A bare host[:port] means wss://host:8084/. Certificates are verified strictly (chain and name) unless --insecure. The passphrase of an encrypted --key comes from --passphrase-file FILE or $DEFENDER_CHECK_PASSPHRASE (out of sight of ps), else --passphrase, else --defender-certs' service-parameter. Every phase has a deadline (--timeout); a failure names the phase and the cause (ECONNREFUSED, ETIMEDOUT, ENOTFOUND, the certificate or TLS alert by name).

Exit codes: 0 every check passed (warnings allowed, unless --strict); 1 a check failed (or warned, with --strict); 2 usage or input error (bad URL, unreadable certificate or key).`

  static override examples = [
    {description: 'Probe a self-hosted Console with the Defender\'s own certificates', command: '<%= config.bin %> <%= command.id %> wss://console.example.com:8084/ --defender-certs /var/lib/twistlock/certificates'},
    {description: 'By IP, checking the certificate for the Console\'s name', command: '<%= config.bin %> <%= command.id %> 10.0.0.5 --servername console.example.com --ca ca.pem --cert client.pem --key client-key.pem'},
    {description: 'Through a proxy, holding the session for 30 s, JUnit for CI', command: '<%= config.bin %> <%= command.id %> console.example.com:8084 --proxy http://proxy:3128 --hold 30s --format junit -o probe.xml'},
    {description: 'Tighter clock and certificate thresholds: warn past 5 s of skew, fail past 1 min; warn under 180 days left, fail under 60', command: '<%= config.bin %> <%= command.id %> console.example.com:8084 --defender-certs /var/lib/twistlock/certificates --clock-warn 5s --clock-fail 1m --warn-days 180 --fail-days 60'},
  ]

  static override enableJsonFlag = true

  static override args = {
    url: Args.string({description: 'the Console: wss://host:port/path, or host[:port] (wss on 8084)', required: true}),
  }

  static override flags = {
    ...probeFlags,
    proxy: Flags.string({description: 'HTTP proxy to CONNECT through, http://[user:password@]host:port [default: HTTPS_PROXY unless NO_PROXY matches]'}),
    hold: durationFlag('after the first ping, keep the session open this long and ping it every few seconds (e.g. 30s)'),
    'clock-warn': durationFlag('clock.skew warns when the Console\'s clock (its Date header) differs from this host\'s by more', '30s'),
    'clock-fail': durationFlag('clock.skew fails when the Console\'s clock differs from this host\'s by more', '5m'),
    'warn-days': Flags.integer({description: 'certs.lifetime warns when a certificate on the Defender\'s path (client certificate, its CA, the Console\'s chain) has fewer days left', default: 90}),
    'fail-days': Flags.integer({description: 'certs.lifetime fails when a certificate on the Defender\'s path has fewer days left', default: 30}),
    ...verdictFlags,
    ...reportFlags,
  }

  public async run(): Promise<AnalysisReport> {
    const {args, flags} = await this.parse(Probe)
    this.noteIgnoredWithJson(flags)
    const run = await runProbe(args.url, flags)
    return deliverReport(run, {html: flags.html, json: this.jsonEnabled()})
  }
}
