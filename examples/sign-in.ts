// Who may sign in to the example app, and what their session starts with.
import type { LoginRequest } from '../lib/index'
import { DEMO_PASSWORD } from './views'

/** Reads the demo credentials from a form or JSON body: any user name, the demo password. */
export function authenticate(
  req: LoginRequest,
): { uid: string; values: Record<string, string | number> } | null {
  const user = typeof req.body?.user === 'string' ? req.body.user.trim() : ''
  if (user.length === 0 || user.length > 64 || req.body?.password !== DEMO_PASSWORD) return null
  return { uid: user, values: { username: user, loggedInAt: new Date().toISOString(), count: 0 } }
}
