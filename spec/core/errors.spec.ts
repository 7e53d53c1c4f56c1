import { isSessionError, SESSION_ERRORS, SessionError, storeUnavailable } from '../../lib/core/errors'

describe('SessionError', () => {
  it('carries the seed’s stable codes, names and HTTP statuses', () => {
    expect(Object.entries(SESSION_ERRORS).map(([name, { code, status }]) => [code, name, status])).toEqual([
      [201, 'SESSION_ERROR', 500],
      [202, 'STORAGE_EMPTY', 500],
      [203, 'TOKEN_EMPTY', 401],
      [204, 'SESSION_NOT_CREATED', 401],
      [205, 'SESSION_NOT_EXIST', 401],
      [206, 'SESSION_EXPIRED', 401],
      [207, 'SESSION_ILLEGAL', 401],
      [208, 'SESSION_UNKNOWN', 401],
      [209, 'SESSION_REPLACED', 401],
      [210, 'STORE_UNAVAILABLE', 503],
      [211, 'LOGIN_FAILED', 401],
      [212, 'HEADERS_SENT', 500],
      [213, 'RESPONSE_ENDED', 500],
      [214, 'CSRF_REJECTED', 403],
      [215, 'SESSION_TOO_LARGE', 413],
    ])
  })

  it('serialises to { code, error, message } and keeps its cause', () => {
    const cause = new Error('ECONNREFUSED')
    const error = storeUnavailable(cause)
    expect(error.toJSON()).toEqual({ code: 210, error: 'STORE_UNAVAILABLE', message: error.message })
    expect([error.cause, error.status, error.statusCode, error.expose]).toEqual([cause, 503, 503, true])
    expect(isSessionError(error, 'STORE_UNAVAILABLE')).toBe(true)
    expect(isSessionError(cause)).toBe(false)
  })

  it('passes a SessionError through storeUnavailable unchanged', () => {
    const error = new SessionError('SESSION_EXPIRED', 'gone')
    expect(storeUnavailable(error)).toBe(error)
  })
})
