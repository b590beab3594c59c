/** proxy.connect as the probe judges it: the proxy opened a tunnel to the Console (CONNECT answered 2xx). */
import type {CheckResult} from '../../model/checks.js'
import type {ProbeFacts} from '../../model/probe.js'
import {formatMs} from '../../model/format.js'
import {result, cause, notAttempted} from './common.js'

export function probeProxyConnect(facts: ProbeFacts): CheckResult {
  const proxy = facts.proxy!
  if (facts.tcp.error || facts.dns.error) return notAttempted('proxy.connect', facts)
  const via = `proxy ${proxy.url} (from ${proxy.from === 'flag' ? '--proxy' : 'HTTPS_PROXY'}${proxy.basicAuth ? ', basic auth' : ''})`
  const values = {proxy: proxy.url, authority: proxy.authority, status: proxy.status, ms: proxy.ms}
  if (proxy.status !== undefined && proxy.status >= 200 && proxy.status <= 299) {
    return result('proxy.connect', 'pass', `${via} opened a tunnel to ${proxy.authority}: ${proxy.status} ${proxy.statusText ?? ''} in ${formatMs(proxy.ms ?? 0)}`.replace(/ {2,}/g, ' '), values)
  }
  if (proxy.status !== undefined) {
    const hint =
      proxy.status === 407
        ? proxy.basicAuth
          ? 'the proxy rejected the credentials in the proxy URL'
          : 'the proxy wants credentials: put them in the proxy URL (http://user:password@proxy:3128)'
        : proxy.status === 403 || proxy.status === 405
          ? `the proxy does not allow CONNECT to ${proxy.authority}: allow the Console's host and port in its ACL (many proxies allow CONNECT to 443 only)`
          : proxy.status === 502 || proxy.status === 503 || proxy.status === 504
            ? `the proxy could not reach ${proxy.authority} itself: check the route from the proxy to the Console`
            : undefined
    return result('proxy.connect', 'fail', `${via} refused CONNECT ${proxy.authority}: ${proxy.status} ${proxy.statusText ?? ''}`.trim(), values, hint)
  }
  return result('proxy.connect', 'fail', `${via} did not answer CONNECT ${proxy.authority}: ${cause(proxy.error!)}`, values)
}
