import { debug } from '../core/debug'
import { SessionError } from '../core/errors'
import { MAX_COOKIE_AGE } from '../core/expiry'
import { hashMatches, type VerifiedToken } from '../core/token'
import type { SessionRecord } from '../stores/store'

/** A token older than this is issued again, so the browser's cookie never reaches its 400-day cap. */
const RENEW_COOKIE_AFTER_MS = (MAX_COOKIE_AGE / 2) * 1000

/**
 * Why the record a verified token names does not admit it, or how it admits it: by its current
 * token, or only by the one `refresh()` replaced, inside the grace window. The middleware and
 * `SessionManager.verify()` both judge by it, so a token fares the same on a request and a socket.
 */
export function verdictOn(
  record: SessionRecord | undefined,
  parts: VerifiedToken,
): SessionError | { graceOnly: boolean } {
  if (!record) return new SessionError('SESSION_NOT_EXIST', 'the session does not exist; log in again')
  if (record.ended === 'replaced')
    return new SessionError('SESSION_REPLACED', 'the session was replaced by a newer login')
  if (record.ended === 'expired')
    return new SessionError('SESSION_EXPIRED', 'the session expired; log in again')
  if (hashMatches(parts.secretHash, record.tokenHash)) return { graceOnly: false }
  if (
    (record.previousTokenExpiresAt ?? 0) > Date.now() &&
    hashMatches(parts.secretHash, record.previousTokenHash)
  )
    return { graceOnly: true }
  debug('token of session %s was replaced by refresh()', parts.sessionId)
  return new SessionError('SESSION_REPLACED', 'the token was replaced by a newer one')
}

/**
 * A token signed by an older key is issued again under the first, so the old key can be dropped
 * after one `maxAge`; and one near the browser's cookie cap, so the cookie is renewed once a window.
 */
export function needsReissue(record: SessionRecord, parts: VerifiedToken): boolean {
  if (parts.keyIndex > 0) return true
  const outlivesCookie =
    record.lifetime === 0 ||
    record.createdAt + record.lifetime * 1000 > parts.issuedAt + MAX_COOKIE_AGE * 1000
  return outlivesCookie && Date.now() - parts.issuedAt > RENEW_COOKIE_AFTER_MS
}
