/**
 * Credentials that reach the tool as data — the values of Authorization, Proxy-Authorization,
 * Cookie and Set-Cookie (RFC 9110 §11.6.2, §11.7.2; RFC 6265 §4), a URL's userinfo (RFC 3986
 * §3.2.1) and credential-like query parameters (`?token=`, `access_token`, `key`, `password`...)
 * — are replaced where they are read, so that no fact, report format, error line or file holds
 * them. What stays is that they were present and their size: "[redacted, N bytes]".
 *
 * One helper for every reader and every error path (HTTP upgrade reader, proxy CONNECT reader,
 * the probe's target, headers and proxy URL), so the rule cannot differ between them.
 */

/** Header fields whose value is a credential, lower-case. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie'])

/**
 * Query parameter names read as credentials: any name containing one of these words
 * (case-insensitive: `token`, `access_token`, `X-Amz-Signature`, `api_key`, `client_secret`,
 * `password`, `sid`...). Redacting a harmless `design=` is a smaller cost than printing a token.
 */
const SECRET_QUERY_NAME = /token|key|secret|pass|pwd|auth|sig|jwt|cred|cookie|^code$/i

/** The text that stands for a credential: present, redacted, and how many bytes it had. */
export function redactedMarker(bytes: number): string {
  return `[redacted, ${bytes} bytes]`
}

/** UTF-8 length of a credential as given on a command line or in the environment. */
function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.trim().toLowerCase())
}

/**
 * A header value as it may be reported: unchanged, or the marker for a credential header.
 * `bytes` is the value's size on the wire (latin1 text from a capture: its length).
 */
export function reportableHeaderValue(name: string, value: string, bytes: number = utf8Bytes(value)): string {
  return isSecretHeader(name) ? redactedMarker(bytes) : value
}

/**
 * A URL, a request-target or any text that may hold one, with every credential replaced: the
 * userinfo of each `scheme://userinfo@` and the value of each credential-like query parameter.
 * Works on text that is not a valid URL (a port of 99999, a typo), which is exactly what an
 * error line quotes.
 */
export function redactUrl(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s"]*)@/gi, (_m, scheme: string, userinfo: string) => `${scheme}${redactedMarker(utf8Bytes(decodeLoosely(userinfo)))}@`)
    .replace(/([?&;])([^=&#;\s"]+)=([^&#;\s"]*)/g, (whole, sep: string, name: string, value: string) =>
      SECRET_QUERY_NAME.test(decodeLoosely(name)) && value !== '' ? `${sep}${name}=${redactedMarker(utf8Bytes(decodeLoosely(value)))}` : whole,
    )
}

/**
 * A `Name: value` line given by the user (--header) for an error message: its name when it has
 * one, never its value, since a line typed without its colon (`Authorization Bearer TOKEN`) has
 * the credential where the name should be.
 */
export function describeHeaderLine(line: string): string {
  const name = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*/.exec(line.trim())![0]
  const rest = line.trim().slice(name.length)
  return rest === '' ? JSON.stringify(name) : `${JSON.stringify(name)} followed by ${redactedMarker(utf8Bytes(rest))}`
}

function decodeLoosely(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
