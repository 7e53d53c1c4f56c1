// The demo's colour theme: a choice a visitor makes before signing in, kept in the session.
import type { Session } from '../lib/index'

/** The themes a visitor may pick; a form that posts anything else is refused. */
export const THEMES = ['light', 'dark'] as const

/** One of `THEMES`. */
export type Theme = (typeof THEMES)[number]

/** Whether `value` (a form field, a stored value) names one of `THEMES`. */
export function isTheme(value: unknown): value is Theme {
  return THEMES.includes(value as Theme)
}

/** The theme this session chose, anonymous or signed in; `'light'` until it chooses one. */
export function themeOf(session: Session | undefined): Theme {
  const theme = session?.get('theme')
  return isTheme(theme) ? theme : 'light'
}
