import {execFileSync} from 'node:child_process'
import {createPrivateKey, createPublicKey, X509Certificate} from 'node:crypto'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {InputError, UsageError} from '../../src/errors.js'
import {decryptPrivateKey, loadCredentials} from '../../src/probe/credentials.js'
import {CERTS} from './servers.js'

const DEFENDER = join(CERTS, 'defender')
/** The client certificate's public key, to prove a decrypted key is the right one. */
const certificateKey = () => new X509Certificate(readFileSync(join(DEFENDER, 'defender-client-cert.pem'))).publicKey.export({type: 'spki', format: 'der'})

describe('loadCredentials', () => {
  it('reads a Defender certificate directory: CA bundle, certificate, and the key decrypted with service-parameter', () => {
    const credentials = loadCredentials({defenderCerts: DEFENDER})
    expect(credentials.ca?.file).toBe(join(DEFENDER, 'defender-ca.pem'))
    expect(credentials.client?.summary.subject).toBe('O=defender-check test, CN=defender-test')
    expect(credentials.client?.summary.issuer).toBe('O=defender-check test, CN=Defender CA')
    const publicKey = createPublicKey(createPrivateKey(credentials.client!.key)).export({type: 'spki', format: 'der'})
    expect(publicKey.equals(certificateKey())).toBe(true)
  })

  it('explicit files override the directory\'s, and --cert needs --key', () => {
    expect(loadCredentials({defenderCerts: DEFENDER, ca: join(CERTS, 'console-ca.pem')}).ca?.file).toBe(join(CERTS, 'console-ca.pem'))
    expect(() => loadCredentials({cert: join(CERTS, 'defender-client.pem')})).toThrow(UsageError)
  })

  it('an encrypted key without passphrase is a usage error; a wrong one an input error naming the file', () => {
    const key = join(DEFENDER, 'defender-client-key.pem')
    expect(() => loadCredentials({cert: join(DEFENDER, 'defender-client-cert.pem'), key})).toThrow(/encrypted.*--passphrase/)
    expect(() => loadCredentials({cert: join(DEFENDER, 'defender-client-cert.pem'), key, passphrase: 'wrong'})).toThrow(InputError)
  })

  it('a certificate with a key that is not its own is refused', () => {
    expect(() => loadCredentials({cert: join(CERTS, 'console-server.pem'), key: join(CERTS, 'defender-client.key')})).toThrow(/do not go together/)
  })
})

describe('decryptPrivateKey', () => {
  it('falls back to node-forge for a legacy DES-CBC PEM that OpenSSL 3 (node:crypto) refuses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'defender-check-des-'))
    const file = join(dir, 'des.pem')
    // `-provider legacy`: the openssl CLI needs it for DES-CBC too; node:crypto has no legacy provider loaded.
    execFileSync('openssl', ['rsa', '-in', join(CERTS, 'defender-client.key'), '-traditional', '-des', '-passout', 'pass:s3cret', '-out', file, '-provider', 'legacy', '-provider', 'default'], {stdio: 'ignore'})
    const pem = readFileSync(file, 'latin1')
    expect(pem).toContain('DEK-Info: DES-CBC,')
    expect(() => createPrivateKey({key: pem, passphrase: 's3cret'})).toThrow()
    const plain = decryptPrivateKey(pem, 's3cret', file)
    expect(createPublicKey(createPrivateKey(plain)).export({type: 'spki', format: 'der'}).equals(certificateKey())).toBe(true)
    expect(() => decryptPrivateKey(pem, 'wrong', file)).toThrow(InputError)
  })
})
