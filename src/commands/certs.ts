import {Args, Flags} from '@oclif/core'
import type {CertsReport} from '../model/certs.js'
import {BaseCommand} from '../cli/base-command.js'
import {DEFAULT_CERT_FAIL_DAYS, DEFAULT_CERT_WARN_DAYS, DEFAULT_DEFENDER_CERT_DIR, renderCerts, runCerts} from '../cli/certs-run.js'

export default class Certs extends BaseCommand {
  static override summary = 'Read a Defender\'s certificate directory: validity, key, chain, CA generation and when it stops connecting.'

  static override description = `Reads defender-ca.pem, defender-client-cert.pem, defender-client-key.pem (an encrypted key is decrypted with the passphrase in service-parameter, never printed) and the .old files a CA rotation leaves (defender-ca.pem.old or defender-ca.old, defender-client-cert.pem.old or defender-client-cert.old). For each certificate: subject, issuer, validity and days left; whether the key belongs to the client certificate; whether the client certificate chains to defender-ca.pem or to the old CA (its CA generation); and a forecast: the date this Defender stops connecting unless it is redeployed (the earliest expiry among the client certificate, its issuing CA and defender-ca.pem).

A certificate on that path fails when expired, not yet valid, or under --fail-days left, and warns under --warn-days; a key that does not match or a chain to no CA in the directory fails.

Exit codes: 0 pass or warn; 1 fail; 2 the directory or one of its files cannot be read (one line naming the file).`

  static override examples = [
    {description: 'On the Defender\'s host', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'A copy of the directory, JSON, warning under 120 days', command: '<%= config.bin %> <%= command.id %> ./certificates --warn-days 120 -f json'},
  ]

  static override enableJsonFlag = true

  static override args = {
    dir: Args.string({description: `the Defender certificate directory [default: ${DEFAULT_DEFENDER_CERT_DIR}]`}),
  }

  static override flags = {
    format: Flags.string({char: 'f', description: 'report format [default: table on a terminal, json otherwise]', options: ['table', 'json']}),
    'warn-days': Flags.integer({description: 'warn when a certificate on the path has fewer days left', default: DEFAULT_CERT_WARN_DAYS}),
    'fail-days': Flags.integer({description: 'fail when a certificate on the path has fewer days left', default: DEFAULT_CERT_FAIL_DAYS}),
  }

  public async run(): Promise<CertsReport> {
    const {args, flags} = await this.parse(Certs)
    this.noteIgnoredWithJson({format: flags.format})
    const report = runCerts(args.dir, flags)
    if (!this.jsonEnabled()) process.stdout.write(renderCerts(report, flags.format))
    return report
  }
}
