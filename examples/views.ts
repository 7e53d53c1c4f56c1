// The example's pages: plain server-rendered HTML, every user-provided string escaped.
import type { SessionInfo } from '../lib/index'
import { deviceName, shownAddress } from './device-name'
import { THEMES, type Theme } from './theme'

/** The fixed password of every demo user, stated on the login page. */
export const DEMO_PASSWORD = 'demo'

/** What the profile page shows of the signed-in user's session. */
export interface ProfileView {
  username: string
  loggedInAt: string
  count: number
  sessionId: string
  /** Seconds of inactivity after which the session ends. */
  maxAge: number
  sessions: SessionInfo[]
  notice: string | undefined
  theme: Theme
}

/** What the login page shows: why the last session ended, or why the last attempt failed. */
export interface LoginView {
  notice: Notice | undefined
  maxAge: number
  theme: Theme
  username?: string
}

/** A one-line message above a form; `error` tints it red. */
export interface Notice {
  text: string
  kind: 'info' | 'error'
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]!)
}

/** The login form, with the demo password stated on it. */
export function loginPage(view: LoginView): string {
  return layout(
    { title: 'Sign in', theme: view.theme, themeChoice: true },
    `
    <h1>Sign in</h1>
    <p class="lead">Any user name works; the password is <code>${DEMO_PASSWORD}</code>.</p>
    ${noticeHtml(view.notice)}
    <form method="post" action="/login" class="stack">
      <label>User name
        <input name="user" required maxlength="64" autocomplete="username" autofocus
          value="${escapeHtml(view.username ?? '')}">
      </label>
      <label>Password
        <input name="password" type="password" required autocomplete="current-password"
          placeholder="${DEMO_PASSWORD}">
      </label>
      <div>
        <label class="check"><input type="checkbox" name="remember" value="on" aria-describedby="remember-help"> Remember me</label>
        <p class="fine" id="remember-help">Checked, the cookie outlives the browser; unchecked, the browser
          forgets it when it closes. Either way the session ends after ${escapeHtml(duration(view.maxAge))}
          without a request.</p>
      </div>
      <button type="submit" class="primary">Sign in</button>
    </form>
    <p class="fine">The session token lives in an HttpOnly, SameSite=Lax cookie. The theme you pick
      is kept in a session too, an anonymous one until you sign in, and signing in keeps it.</p>`,
  )
}

/** The signed-in page: the session's values, the counter, the token and the user's sessions. */
export function profilePage(view: ProfileView): string {
  const others = view.sessions.filter((session) => !session.current).length
  return layout(
    { title: `Hello, ${view.username}`, theme: view.theme, themeChoice: true, head: LIVE_SCRIPT },
    `
    <h1>Hello, ${escapeHtml(view.username)}</h1>
    ${noticeHtml(view.notice === undefined ? undefined : { text: view.notice, kind: 'info' })}
    <dl class="facts">
      <dt>User</dt><dd id="username">${escapeHtml(view.username)}</dd>
      <dt>Signed in</dt><dd>${timeHtml(view.loggedInAt)}</dd>
      <dt>Session</dt><dd><code>${escapeHtml(shortId(view.sessionId))}</code></dd>
      <dt>Idle timeout</dt><dd>${escapeHtml(duration(view.maxAge))}</dd>
    </dl>

    <section class="row">
      <div>
        <h2>Counter</h2>
        <p class="fine">Stored in the session; survives reloads and other tabs.</p>
      </div>
      <form method="post" action="/counter" class="inline">
        <output id="count" aria-label="count">${view.count}</output>
        <button type="submit" class="primary">Count +1</button>
      </form>
    </section>

    <section id="live" class="live" hidden>
      <h2>Live</h2>
      <p class="fine" id="live-status" role="status">Connecting…</p>
      <ul id="live-others" class="fine"></ul>
    </section>

    <section class="row">
      <div>
        <h2>Token</h2>
        <p class="fine">Issue a new token for this session; the old one stops working.</p>
      </div>
      <form method="post" action="/refresh" class="inline">
        <button type="submit">Refresh token</button>
      </form>
    </section>

    <section>
      <h2>Your sessions <span class="badge">${view.sessions.length}</span></h2>
      <table class="sessions">
        <thead><tr><th>Device</th><th>Created</th><th>Last active</th><th></th></tr></thead>
        <tbody>
          ${view.sessions.map(sessionRow).join('\n          ')}
        </tbody>
      </table>
      <p class="fine">Each sign-in's browser and address, as it sent them; times in UTC. Ending a session
        signs that browser out at its next request.</p>
    </section>

    <footer class="actions">
      <form method="post" action="/logout"><button type="submit">Log out</button></form>
      <form method="post" action="/logout-everywhere">
        <button type="submit" class="danger">Log out everywhere${others > 0 ? ` (${others + 1})` : ''}</button>
      </form>
    </footer>`,
  )
}

/** A page for an error a form post ran into, with the way back. */
export function errorPage(status: number, title: string, message: string, theme: Theme): string {
  return layout(
    { title, theme },
    `
    <h1>${escapeHtml(title)}</h1>
    ${noticeHtml({ text: message, kind: 'error' })}
    <p><a href="/profile">Back to your profile</a> · <a href="/login">Sign in</a></p>
    <p class="fine">HTTP ${status}</p>`,
  )
}

function sessionRow(session: SessionInfo): string {
  const device = deviceName(session.userAgent)
  const action = session.current
    ? '<span class="badge current">this browser</span>'
    : `<form method="post" action="/sessions/revoke">
              <input type="hidden" name="id" value="${escapeHtml(session.id)}">
              <button type="submit" class="small" aria-label="End session ${escapeHtml(shortId(session.id))} (${escapeHtml(device)})">End</button>
            </form>`
  return `<tr${session.current ? ' class="current"' : ''}>
            <td><span class="device">${escapeHtml(device)}</span>
              <span class="where">${escapeHtml(shownAddress(session.address))} · <code>${escapeHtml(shortId(session.id))}</code></span></td>
            <td>${timeHtml(session.createdAt.toISOString(), 'short')}</td>
            <td>${timeHtml(session.lastActiveAt.toISOString(), 'short')}</td>
            <td class="end">${action}</td>
          </tr>`
}

function noticeHtml(notice: Notice | undefined): string {
  if (notice === undefined) return ''
  const role = notice.kind === 'error' ? 'alert' : 'status'
  return `<p class="notice ${notice.kind}" role="${role}">${escapeHtml(notice.text)}</p>`
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** `<time>` in UTC, `2025-03-14 09:26:53 UTC` or in a table `14 Mar 09:26:53`; the instant on hover. */
function timeHtml(iso: string, form: 'full' | 'short' = 'full'): string {
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return '—'
  const full = date.toISOString()
  const clock = full.slice(11, 19)
  const text =
    form === 'full'
      ? `${full.slice(0, 10)} ${clock} UTC`
      : `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${clock}`
  return `<time datetime="${full}" title="${full}">${text}</time>`
}

/** The last characters of an id: enough to tell sessions apart (a Redis id starts with the user's tag). */
export function shortId(id: string): string {
  return id.length > 8 ? `…${id.slice(-8)}` : id
}

function duration(seconds: number): string {
  if (seconds === 0) return 'never'
  if (seconds % 3600 === 0) return plural(seconds / 3600, 'hour')
  if (seconds % 60 === 0) return plural(seconds / 60, 'minute')
  return plural(seconds, 'second')
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`
}

const LIVE_SCRIPT = '<script src="/live.js" defer></script>'

/** What every page has around its body. */
interface Frame {
  title: string
  theme: Theme
  /** Whether the page offers the theme buttons (the login and profile pages do). */
  themeChoice?: boolean
  /** More of `<head>`: the profile page's script. */
  head?: string
}

const THEME_NAMES: Record<Theme, string> = { light: 'Light', dark: 'Dark' }

/** A submit button a theme, in one form: a choice that works without JavaScript; the current one is pressed. */
function themeForm(current: Theme): string {
  const buttons = THEMES.map(
    (theme) =>
      `<button type="submit" name="theme" value="${theme}" class="small" aria-pressed="${theme === current}">${THEME_NAMES[theme]}</button>`,
  )
  return `<form method="post" action="/theme" class="theme" aria-label="Theme">
      ${buttons.join('\n      ')}
    </form>`
}

function layout(frame: Frame, body: string): string {
  return `<!doctype html>
<html lang="en" data-theme="${escapeHtml(frame.theme)}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(frame.title)} · cosgo-session demo</title>
  <link rel="stylesheet" href="/style.css">${frame.head ? `\n  ${frame.head}` : ''}
</head>
<body>
  <main class="card">
    <header class="top">
      <p class="brand">cosgo-session <span>demo</span></p>
      ${frame.themeChoice ? themeForm(frame.theme) : ''}
    </header>
    ${body.trim()}
  </main>
</body>
</html>
`
}
