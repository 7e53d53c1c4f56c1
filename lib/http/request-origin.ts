import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'

/** A request as Express (which adds `protocol` and `app`), Connect or node:http hands it over. */
export type OriginRequest = IncomingMessage & { protocol?: unknown; app?: unknown }

/** What a Host header may hold: a host name or address and a port, nothing that moves the URL on. */
const HOST = /^[^\s/?#@\\]+$/

/**
 * The origin of an http(s) URL or of a serialized origin, as browsers write it (`'https://example.com'`,
 * default port dropped, host in lower case); `undefined` for anything else, `'null'` included.
 */
export function originOf(text: string): string | undefined {
  if (!URL.canParse(text)) return undefined
  const url = new URL(text)
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined
}

/**
 * The origin the request was sent to: its scheme, from Express's `req.protocol` (which follows
 * `X-Forwarded-Proto` under `trust proxy`) or else the socket's TLS, and its `Host`, or the
 * `X-Forwarded-Host` of a proxy Express trusts, as Express's own `req.host` reads it.
 */
export function requestOrigin(req: OriginRequest): string | undefined {
  const scheme =
    typeof req.protocol === 'string'
      ? req.protocol
      : (req.socket as Partial<TLSSocket> | undefined)?.encrypted === true
        ? 'https'
        : 'http'
  const host = forwardedHost(req) ?? req.headers.host
  if (host === undefined || !HOST.test(host)) return undefined
  return originOf(`${scheme}://${host}`)
}

/** The first `X-Forwarded-Host` when the Express app behind `req` trusts the proxy that sent it. */
function forwardedHost(req: OriginRequest): string | undefined {
  const header = req.headers['x-forwarded-host']
  const value = Array.isArray(header) ? header[0] : header
  if (!value) return undefined
  // the compiled `trust proxy` setting, which Express's req.protocol and req.host consult alike
  const app = req.app as { get?: (setting: string) => unknown } | undefined
  const trusts = typeof app?.get === 'function' ? app.get('trust proxy fn') : undefined
  if (typeof trusts !== 'function' || !trusts(req.socket?.remoteAddress, 0)) return undefined
  return value.split(',')[0]!.trim()
}
