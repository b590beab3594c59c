/**
 * CertificateRequest: the server asks for a client certificate (mTLS).
 * TLS 1.2 (RFC 5246 §7.4.4): certificate_types<1..2^8-1>, supported_signature_algorithms
 * <2..2^16-2>, certificate_authorities<0..2^16-1> of DistinguishedName<1..2^16-1>.
 * TLS 1.3 (RFC 8446 §4.3.2): certificate_request_context<0..2^8-1>, extensions<2..2^16-1>
 * carrying signature_algorithms (13), certificate_authorities (47, §4.2.4) and
 * signature_algorithms_cert (50).
 */
import {TlsCursor} from './errors.js'
import {distinguishedNameToString} from './distinguished-name.js'
import {EXT_CERTIFICATE_AUTHORITIES, EXT_SIGNATURE_ALGORITHMS, EXT_SIGNATURE_ALGORITHMS_CERT} from './iana/extension-types.js'

export interface CertificateRequest {
  /** TLS 1.2 ClientCertificateType values (1 rsa_sign, 64 ecdsa_sign...). */
  certificateTypes?: number[]
  signatureAlgorithms?: number[]
  /** TLS 1.3 signature_algorithms_cert. */
  signatureAlgorithmsCert?: number[]
  /** Acceptable CA names, rendered by distinguishedNameToString. */
  authorities?: string[]
  /** TLS 1.3 extension types, in order. */
  extensions?: number[]
}

/** certificate_authorities / DistinguishedName list (RFC 8446 §4.2.4, RFC 5246 §7.4.4). */
function readAuthorities(c: TlsCursor): string[] {
  const list = c.sub(2, 'certificate_authorities')
  const out: string[] = []
  while (list.remaining > 0) out.push(distinguishedNameToString(list.vector(2, 'DistinguishedName')))
  return out
}

/** TLS 1.2 CertificateRequest body. */
export function parseCertificateRequest12(body: Uint8Array): CertificateRequest {
  const c = new TlsCursor(body)
  const certificateTypes = c.u8List('certificate_types')
  const signatureAlgorithms = c.u16List(2, 'supported_signature_algorithms')
  const authorities = readAuthorities(c)
  c.expectEnd('CertificateRequest')
  return {certificateTypes, signatureAlgorithms, authorities}
}

/** TLS 1.3 CertificateRequest body (from decrypted records). */
export function parseCertificateRequest13(body: Uint8Array): CertificateRequest {
  const c = new TlsCursor(body)
  c.vector(1, 'certificate_request_context')
  const exts = c.sub(2, 'extensions')
  c.expectEnd('CertificateRequest')
  const out: CertificateRequest = {extensions: []}
  while (exts.remaining > 0) {
    const type = exts.u16('extension_type')
    const data = exts.sub(2, 'extension_data')
    out.extensions!.push(type)
    if (type === EXT_SIGNATURE_ALGORITHMS) {
      out.signatureAlgorithms = data.u16List(2, 'signature_algorithms')
      data.expectEnd('signature_algorithms extension')
    } else if (type === EXT_SIGNATURE_ALGORITHMS_CERT) {
      out.signatureAlgorithmsCert = data.u16List(2, 'signature_algorithms_cert')
      data.expectEnd('signature_algorithms_cert extension')
    } else if (type === EXT_CERTIFICATE_AUTHORITIES) {
      out.authorities = readAuthorities(data)
      data.expectEnd('certificate_authorities extension')
    }
  }
  return out
}
