/**
 * Flags shared by `probe` and `capture --probe` (the probe's TLS and WebSocket options) and by
 * every command that writes a report. Definitions only: the commands pass the values to the library.
 */
import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'
import type {ProbeInput} from '../probe/index.js'
import {REPORT_FORMATS} from './output.js'

/**
 * `10s`, `500ms`, `2m`, `1h`, or a bare number of seconds → milliseconds; undefined stays
 * undefined. Called in run() rather than as an oclif parse function, whose errors oclif reports
 * as internal ones: a UsageError is one line and exit code 2.
 */
export function parseDuration(text: string, flag: string): number
export function parseDuration(text: string | undefined, flag: string): number | undefined
export function parseDuration(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text)
  if (!match) throw new UsageError(`--${flag} ${JSON.stringify(text)}: expected a duration such as 500ms, 10s, 2m or 1h`)
  const unit = (match[2] ?? 's').toLowerCase()
  const ms = Number(match[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000)
  if (ms <= 0) throw new UsageError(`--${flag} must be longer than 0`)
  return Math.round(ms)
}

/** A duration flag: its value goes through parseDuration in the command. */
export const durationFlag = (description: string, defaultValue?: string) => Flags.string({description, default: defaultValue})

export const reportFlags = {
  format: Flags.string({char: 'f', description: 'report format [default: table on a terminal, json otherwise]', options: [...REPORT_FORMATS]}),
  output: Flags.string({char: 'o', description: 'write the report to this file (format from its extension unless --format)'}),
  timeline: Flags.boolean({
    description: 'table format: a ladder diagram (SYN … ClientHello … alerts … FIN, with times and the failing step) under every connection; --no-timeline for none [default: under failing connections]',
    allowNo: true,
  }),
  all: Flags.boolean({description: 'table format: print every connection (by default a capture with many connections gets a summary and the worst ones)'}),
  html: Flags.string({description: 'also write a self-contained HTML report (summary, checks, SVG ladder per connection) to this file, e.g. for a support ticket'}),
}

/** How strict the verdict is and which Console profile applies: analyze, capture and probe. */
export const verdictFlags = {
  strict: Flags.boolean({description: 'any warning fails the verdict (exit 1): for CI gates where only what was verified may pass'}),
  saas: Flags.boolean({description: 'SaaS Console: Defenders authenticate with a token, so no client certificate is expected [default: on for port 443]'}),
}

/**
 * channel.stability's thresholds, per Defender (analyze and capture): defaults in
 * model/policy.ts DEFAULT_STABILITY, the README's "Defenders" section says what each finding is.
 */
export const stabilityFlags = {
  'storm-attempts': Flags.integer({description: 'channel.stability: more connection attempts than this from one Defender within --storm-window is a reconnect storm [default: 10]', min: 1}),
  'storm-window': Flags.string({description: 'channel.stability: the reconnect storm window, e.g. 60s, 5m [default: 60s]'}),
  'idle-cut-sessions': Flags.integer({description: 'channel.stability: sessions cut by the Console\'s side after the same idle time before it is reported as an idle timeout [default: 3]', min: 1}),
  'stopped-after': Flags.string({description: 'channel.stability: a Defender whose last session ended this long before the capture did, with no new attempt, has stopped reconnecting, e.g. 30s, 10m [default: 60s]'}),
}

/** The environment variable an encrypted key's passphrase may come from, out of sight of `ps`. */
export const PASSPHRASE_ENV = 'DEFENDER_CHECK_PASSPHRASE'

/** The probe's flags; `capture --probe` takes them too. */
export const probeFlags = {
  servername: Flags.string({description: 'TLS server name (SNI) and the name the Console certificate must carry, when it differs from the URL host (e.g. connecting by IP)'}),
  'min-tls': Flags.string({description: 'lowest acceptable TLS version; the probe offers it and up [default: offers 1.2 and 1.3; 1.3 passes, 1.2 warns]', options: ['1.2', '1.3']}),
  ca: Flags.string({description: 'PEM bundle of the CA(s) that must have issued the Console certificate [default: node\'s built-in roots]'}),
  cert: Flags.string({description: 'PEM client certificate (the Defender\'s defender-client-cert.pem)'}),
  key: Flags.string({description: 'PEM private key of --cert, plain or encrypted'}),
  passphrase: Flags.string({description: `passphrase of an encrypted --key; on the command line every user sees it in ps: prefer --passphrase-file or $${PASSPHRASE_ENV}`}),
  'passphrase-file': Flags.string({description: `file holding the passphrase of an encrypted --key (its first line) [default: $${PASSPHRASE_ENV} if set]`, exclusive: ['passphrase']}),
  'defender-certs': Flags.string({description: 'a Defender certificate directory (/var/lib/twistlock/certificates): defender-ca.pem, defender-client-cert.pem, defender-client-key.pem and the key passphrase in service-parameter; --ca/--cert/--key/--passphrase override its files'}),
  insecure: Flags.boolean({description: 'report certificate failures as warnings and go on (the verdict says so); default: strict verification'}),
  header: Flags.string({char: 'H', description: 'extra header on the WebSocket upgrade request, "Name: value" (repeatable)', multiple: true, multipleNonGreedy: true}),
  subprotocol: Flags.string({description: 'WebSocket subprotocol to offer (repeatable)', multiple: true, multipleNonGreedy: true}),
  timeout: durationFlag('deadline of each phase (DNS, TCP, proxy CONNECT, TLS, upgrade, ping, close)', '10s'),
  keylog: Flags.string({description: 'append the probe\'s TLS secrets to this file (NSS key log format, as SSLKEYLOGFILE; Wireshark reads it)'}),
}

/** The values of probeFlags as parsed by oclif. */
export interface ProbeFlagValues {
  servername?: string
  'min-tls'?: string
  ca?: string
  cert?: string
  key?: string
  passphrase?: string
  'passphrase-file'?: string
  'defender-certs'?: string
  insecure?: boolean
  header?: string[]
  subprotocol?: string[]
  timeout?: string
  keylog?: string
  strict?: boolean
  saas?: boolean
}

/** probeFlags → the probe library's input, shared by `probe` and `capture --probe`. */
export function probeInputFromFlags(url: string, flags: ProbeFlagValues, env: NodeJS.ProcessEnv = process.env): ProbeInput {
  if (flags.passphrase !== undefined) {
    process.stderr.write(`defender-check: warning: --passphrase on the command line is visible to every user of this machine (ps); prefer --passphrase-file FILE or $${PASSPHRASE_ENV}\n`)
  }
  // Precedence: what is given on this command line (--passphrase, --passphrase-file), then the
  // environment, then --defender-certs' service-parameter (read by the library when all are unset).
  const fromEnv = env[PASSPHRASE_ENV]
  return {
    url,
    servername: flags.servername,
    minTls: flags['min-tls'],
    ca: flags.ca,
    cert: flags.cert,
    key: flags.key,
    passphrase: flags.passphrase ?? (flags['passphrase-file'] === undefined && fromEnv !== undefined && fromEnv !== '' ? fromEnv : undefined),
    passphraseFile: flags['passphrase-file'],
    defenderCerts: flags['defender-certs'],
    insecure: flags.insecure,
    headers: flags.header,
    subprotocols: flags.subprotocol,
    timeoutMs: parseDuration(flags.timeout ?? '10s', 'timeout'),
    keylogFile: flags.keylog,
    strict: flags.strict,
    saas: flags.saas,
  }
}
