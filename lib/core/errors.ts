/**
 * The stable error table. `code` numbers follow cosgo/session; `status` is the HTTP answer a
 * request gets when the error ends it. Branch on `code` or `error`, never on the message.
 */
export const SESSION_ERRORS = {
  SESSION_ERROR: { code: 201, status: 500 },
  STORAGE_EMPTY: { code: 202, status: 500 },
  TOKEN_EMPTY: { code: 203, status: 401 },
  SESSION_NOT_CREATED: { code: 204, status: 401 },
  SESSION_NOT_EXIST: { code: 205, status: 401 },
  SESSION_EXPIRED: { code: 206, status: 401 },
  SESSION_ILLEGAL: { code: 207, status: 401 },
  SESSION_UNKNOWN: { code: 208, status: 401 },
  SESSION_REPLACED: { code: 209, status: 401 },
  STORE_UNAVAILABLE: { code: 210, status: 503 },
  /** `login()`'s `authenticate` refused the user. */
  LOGIN_FAILED: { code: 211, status: 401 },
  /** A new token (create, refresh) was asked for after the response's headers were sent. */
  HEADERS_SENT: { code: 212, status: 500 },
  /** A session value was changed after the response ended: it could reach neither store nor client. */
  RESPONSE_ENDED: { code: 213, status: 500 },
  /** A cross-site request was refused: `csrfGuard()`, or a WebSocket upgrade from an Origin not allowed. */
  CSRF_REJECTED: { code: 214, status: 403 },
  /** A change would take the session's values past `maxSessionBytes` of stored JSON. */
  SESSION_TOO_LARGE: { code: 215, status: 413 },
} as const

/** One of the stable error names, such as `'SESSION_EXPIRED'`. */
export type SessionErrorName = keyof typeof SESSION_ERRORS

/** One of the stable error numbers, such as `206`. */
export type SessionErrorCode = (typeof SESSION_ERRORS)[SessionErrorName]['code']

/** The JSON body the helpers answer with when a session error ends a request. */
export interface SessionErrorBody {
  code: SessionErrorCode
  error: SessionErrorName
  message: string
}

/**
 * Every failure this package reports: a stable numeric `code`, a stable name in `error`, the
 * HTTP `status` to answer with, and the underlying failure (a store's, say) as `cause`.
 */
export class SessionError extends Error {
  override readonly name = 'SessionError'
  readonly code: SessionErrorCode
  readonly error: SessionErrorName
  readonly status: number
  /** Alias of `status` for Express's and Connect's default error handlers. */
  readonly statusCode: number
  /** Express's final handler shows `message` to the client only for errors that `expose`. */
  readonly expose: boolean

  constructor(error: SessionErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options)
    const { code, status } = SESSION_ERRORS[error]
    this.error = error
    this.code = code
    this.status = status
    this.statusCode = status
    this.expose = status < 500 || error === 'STORE_UNAVAILABLE'
  }

  /** The `{ code, error, message }` body that clients receive. */
  toJSON(): SessionErrorBody {
    return { code: this.code, error: this.error, message: this.message }
  }
}

/** Whether `value` is a `SessionError`, optionally of one name. */
export function isSessionError(value: unknown, error?: SessionErrorName): value is SessionError {
  return value instanceof SessionError && (error === undefined || value.error === error)
}

/** Wraps a store's failure as STORE_UNAVAILABLE (210), keeping the original as `cause`. */
export function storeUnavailable(cause: unknown): SessionError {
  if (cause instanceof SessionError) return cause
  return new SessionError('STORE_UNAVAILABLE', 'the session store is unavailable, try again shortly', {
    cause,
  })
}
