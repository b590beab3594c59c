/**
 * TLS 1.2 ServerKeyExchange for ECDHE suites (RFC 8422 §5.4): ServerECDHParams
 * {ECParameters {curve_type, named_curve}, ECPoint public<1..2^8-1>} followed by the signature.
 * Only named_curve (3) is allowed by RFC 8422 §5.4; explicit curves are deprecated.
 */
import {TlsCursor, TlsParseError} from './errors.js'

export const EC_CURVE_TYPE_NAMED_CURVE = 3

export interface EcdheServerKeyExchange {
  namedCurve: number
  publicKeyLength: number
}

export function parseEcdheServerKeyExchange(body: Uint8Array): EcdheServerKeyExchange {
  const c = new TlsCursor(body)
  const curveType = c.u8('ECParameters curve_type')
  if (curveType !== EC_CURVE_TYPE_NAMED_CURVE) {
    throw new TlsParseError('bad-value', `ECParameters curve_type ${curveType} (only named_curve 3 is allowed)`, 0)
  }
  const namedCurve = c.u16('ECParameters namedcurve')
  const publicKeyLength = c.vector(1, 'ECPoint public').length
  return {namedCurve, publicKeyLength}
}
