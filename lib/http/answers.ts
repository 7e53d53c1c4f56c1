import type { ServerResponse } from 'node:http'
import type { SessionError } from '../core/errors'

/** The `next` callback of Express, Connect and hand-written node:http servers. */
export type NextFunction = (error?: unknown) => void

/** Answers JSON with plain node:http calls, so helpers work without Express. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body)
  res.statusCode = status
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.setHeader('content-length', Buffer.byteLength(payload))
  res.end(payload)
}

/** A 303 redirect, the right answer to a form POST. */
export function redirect(res: ServerResponse, location: string): void {
  res.statusCode = 303
  res.setHeader('location', location)
  res.setHeader('content-length', 0)
  res.end()
}

/** Answers a session error as `{ code, error, message }` with its status. */
export function sendSessionError(res: ServerResponse, error: SessionError): void {
  sendJson(res, error.status, error.toJSON())
}

/**
 * Turns an async handler into a `(req, res, next)` one whose failures reach `next(error)`:
 * Express 4 and Connect ignore rejected promises.
 */
export function forwardErrors<Req, Res extends ServerResponse>(
  handler: (req: Req, res: Res, next: NextFunction) => Promise<void>,
): (req: Req, res: Res, next: NextFunction) => void {
  return (req, res, next) => {
    handler(req, res, next).catch(next)
  }
}
