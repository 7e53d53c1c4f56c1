import type { ServerResponse } from 'node:http'
import type { SessionError } from '../core/errors'

/**
 * The headers that describe the body or the answer the app meant to give, replaced by the failure's:
 * CORS, security and cookie headers stay, so a cross-origin client can read the 503 and retry.
 */
const ANSWER_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-location',
  'content-range',
  'content-disposition',
  'content-md5',
  'transfer-encoding',
  'etag',
  'last-modified',
  'accept-ranges',
  'expires',
  'location',
  'refresh',
])

/**
 * Answers a failure in place of the response the app ended, whose headers are not sent yet:
 * its status and `{ code, error, message }` body, never cached, with every header that does not
 * describe the app's answer kept. `end` is the response's `end` past the package's hold.
 */
export function answerFailure(
  res: ServerResponse,
  failure: SessionError,
  end: ServerResponse['end'],
  callback?: () => void,
): void {
  for (const header of res.getHeaderNames()) if (ANSWER_HEADERS.has(header)) res.removeHeader(header)
  const body = JSON.stringify(failure)
  res.statusCode = failure.status
  res.statusMessage = ''
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('content-length', Buffer.byteLength(body))
  res.setHeader('cache-control', 'no-store')
  if (failure.error === 'STORE_UNAVAILABLE') res.setHeader('retry-after', '1')
  end.call(res, body, 'utf8', callback)
}
