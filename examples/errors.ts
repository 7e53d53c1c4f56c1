// How the example app answers failures: a page for a browser's form post, JSON for the API.
import type { ErrorRequestHandler } from 'express'
import { SessionError } from '../lib/index'
import { themeOf } from './theme'
import { errorPage } from './views'

/** A session that ended mid-request sends the browser to the login page; other failures get a page. */
export const pageErrors: ErrorRequestHandler = (error, req, res, next) => {
  if (res.headersSent) return next(error)
  if (error instanceof SessionError && error.status === 401 && error.error !== 'SESSION_UNKNOWN')
    return res.redirect(303, '/login')
  const status = statusOf(error)
  if (status >= 500) console.error(error)
  const message = error instanceof SessionError && error.expose ? error.message : 'Something went wrong.'
  res
    .status(status)
    .type('html')
    .send(
      errorPage(
        status,
        status >= 500 ? 'Something went wrong' : 'Not allowed',
        message,
        themeOf(req.session),
      ),
    )
}

/** Errors answer `{ code, error, message }` for session errors, `{ error, message }` otherwise. */
export const apiErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) return next(error)
  if (error instanceof SessionError) return res.status(error.status).json(error)
  const status = statusOf(error)
  if (status === 413)
    return res.status(413).json({ error: 'PAYLOAD_TOO_LARGE', message: 'send at most 10 kB of JSON' })
  if (status < 500)
    return res.status(status).json({ error: 'BAD_REQUEST', message: 'send a JSON object as the body' })
  console.error(error)
  res.status(500).json({ error: 'INTERNAL', message: 'something went wrong; try again' })
}

function statusOf(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500
}
