// Who may sign in to the example app, and what their session starts with.
import type { LoginRequest, LoginResult } from '../lib/index'
import { DEMO_PASSWORD } from './views'

/**
 * Reads the demo credentials from a form or JSON body: any user name, the demo password. "Remember
 * me" (the form's checkbox, `"remember": true` in JSON) gives a lasting cookie; without it the
 * cookie has no Max-Age and the browser drops it when it closes. The new session keeps the theme
 * of the session the request had (an anonymous one, usually).
 */
export function authenticate(req: LoginRequest): LoginResult | null {
  const user = typeof req.body?.user === 'string' ? req.body.user.trim() : ''
  if (user.length === 0 || user.length > 64 || req.body?.password !== DEMO_PASSWORD) return null
  return {
    uid: user,
    values: { username: user, loggedInAt: new Date().toISOString(), count: 0 },
    persistent: req.body?.remember === 'on' || req.body?.remember === true,
    // the theme picked before signing in; nothing else an anonymous session holds is trusted
    keep: ['theme'],
  }
}
