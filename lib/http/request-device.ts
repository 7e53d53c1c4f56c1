import type { IncomingMessage } from 'node:http'
import { MAX_USER_AGENT, type SessionRecord } from '../stores/store'

/** A request as Express gives it: `ip` is the client address after `trust proxy`. */
type DeviceRequest = IncomingMessage & { ip?: unknown }

/**
 * Where a request comes from, for the session a login makes: its `User-Agent`, cut to
 * `MAX_USER_AGENT` characters, and the client address: Express's `req.ip`, which follows the
 * app's `trust proxy` setting (so `X-Forwarded-For` counts only from proxies the app trusts),
 * else the socket's remote address. Never throws; what the request lacks is left out.
 */
export function deviceOf(req: DeviceRequest): Pick<SessionRecord, 'userAgent' | 'address'> {
  const userAgent = req.headers['user-agent']?.slice(0, MAX_USER_AGENT)
  const address = typeof req.ip === 'string' && req.ip !== '' ? req.ip : req.socket?.remoteAddress
  return { ...(userAgent ? { userAgent } : {}), ...(address ? { address } : {}) }
}
