// The example app's pages: server-rendered forms, each post answered with a 303 redirect.
import express from 'express'
import { csrfGuard, login, requireSession, type Session, type SessionError } from '../lib/index'
import { pageErrors } from './errors'
import type { LivePanel } from './live'
import { authenticate } from './sign-in'
import { isTheme, type Theme, themeOf } from './theme'
import { DEMO_PASSWORD, errorPage, loginPage, type Notice, profilePage } from './views'

/**
 * What a failed sign-in says. It travels in the redirect's query, not as a flash: a wrong password
 * then writes nothing to the store, and a reload still explains the empty form.
 */
const WRONG_PASSWORD: Notice = {
  text: `Wrong user name or password: any name up to 64 characters, password “${DEMO_PASSWORD}”.`,
  kind: 'error',
}

/** What the pages need from the app. */
export interface PageSetup {
  /** The profile page's live panel, told of each count. */
  live: LivePanel
  /** The sessions' idle timeout in seconds, stated on the pages. */
  maxAge: number
  /** Origins besides the app's own whose pages may post its forms. */
  trustedOrigins: readonly string[]
}

/**
 * The pages of the example app, behind `csrfGuard()`: sign-in, the profile with its counter,
 * token refresh and sessions list, logout, and the theme, which works before sign-in. Notices
 * after a post are flashed to the page it redirects to; a session that ended sends the browser
 * to `/login`, which says why.
 */
export function pageRoutes({ live, maxAge, trustedOrigins }: PageSetup): express.Router {
  const pages = express.Router()
  const signedIn = requireSession({ redirect: '/login' })
  // every form post, login included, before its body is read; GET pages pass untouched
  pages.use(csrfGuard({ trustedOrigins }))
  pages.use(express.urlencoded({ extended: false, limit: '10kb' }))

  // signed in means a uid: an anonymous session (a theme, a flash notice) exists without one
  pages.get('/', (req, res) => res.redirect(303, req.session.uid !== undefined ? '/profile' : '/login'))

  pages.get('/login', async (req, res) => {
    if (req.session.uid !== undefined) return res.redirect(303, '/profile')
    const notice =
      flashedNotice(req.session) ??
      (req.query.reason === 'wrong-password' ? WRONG_PASSWORD : endedNotice(req.session.error, maxAge))
    // A refused cookie has said what it had to say: drop it so a reload shows a clean form. Not
    // when the live panel sent the page here: a sign-in in another tab may have just set a new
    // cookie, which clearing the one this request carried would wipe out.
    if (req.session.error && req.query.from !== 'live') await req.session.destroy()
    res.type('html').send(loginPage({ notice, maxAge, theme: themeOf(req.session) }))
  })

  pages.post(
    '/login',
    login(authenticate, { successRedirect: '/profile', failureRedirect: '/login?reason=wrong-password' }),
  )

  pages.get('/profile', signedIn, async (req, res) => {
    const session = req.session
    res.type('html').send(
      profilePage({
        username: session.getString('username'),
        loggedInAt: session.getString('loggedInAt'),
        count: session.getNumber('count'),
        sessionId: session.id ?? '',
        maxAge,
        sessions: await session.sessions(),
        notice: flashedNotice(session)?.text,
        theme: themeOf(session),
      }),
    )
  })

  pages.post('/counter', signedIn, (req, res) => {
    const count = req.session.getNumber('count') + 1
    req.session.set('count', count)
    live.counted(req.session.uid!, req.session.id!, count)
    res.redirect(303, '/profile')
  })

  // a notice for the page a post redirects to: flash() keeps it for that page's one read, so a
  // reload or the Back button does not show it again
  pages.post('/refresh', signedIn, async (req, res) => {
    await req.session.refresh()
    req.session.flash('notice', 'New token issued: the previous one no longer works.')
    res.redirect(303, '/profile')
  })

  pages.post('/sessions/revoke', signedIn, async (req, res) => {
    await req.session.revoke(String(req.body?.id ?? ''))
    req.session.flash('notice', 'That session has ended; its browser is signed out.')
    res.redirect(303, '/profile')
  })

  pages.post('/logout', async (req, res) => {
    const theme = themeOf(req.session)
    await req.session.destroy()
    signedOut(req.session, 'You are signed out.', theme)
    res.redirect(303, '/login')
  })

  pages.post('/logout-everywhere', signedIn, async (req, res) => {
    const theme = themeOf(req.session)
    await req.session.destroyAll()
    signedOut(req.session, 'You are signed out in every browser.', theme)
    res.redirect(303, '/login')
  })

  // works before sign-in too: set() without a session starts an anonymous one, which login keeps
  pages.post('/theme', (req, res) => {
    const theme = req.body?.theme
    if (!isTheme(theme))
      return res
        .status(400)
        .type('html')
        .send(errorPage(400, 'Not allowed', 'There is no such theme.', themeOf(req.session)))
    req.session.set('theme', theme)
    res.redirect(303, req.session.uid !== undefined ? '/profile' : '/login')
  })

  pages.use((req, res) => {
    res
      .status(404)
      .type('html')
      .send(errorPage(404, 'Not found', 'There is no page at this address.', themeOf(req.session)))
  })
  pages.use(pageErrors)
  return pages
}

/**
 * After a logout the request has no session: flash() starts an anonymous one to carry the notice
 * to the login page, and the theme goes with it so that the page does not change colour.
 */
function signedOut(session: Session, notice: string, theme: Theme): void {
  session.flash('notice', notice)
  if (theme !== 'light') session.set('theme', theme)
}

/** The notice the post before this page flashed, taken: the next page no longer has it. */
function flashedNotice(session: Session): Notice | undefined {
  const text = session.takeFlash('notice')
  return typeof text === 'string' ? { text, kind: 'info' } : undefined
}

/** Why the presented cookie was refused, in words, for the login page. */
function endedNotice(error: SessionError | undefined, maxAge: number): Notice | undefined {
  switch (error?.error) {
    case undefined:
      return undefined
    case 'SESSION_EXPIRED':
      return {
        text: `Your session expired after ${maxAge} s without a request. Sign in again.`,
        kind: 'info',
      }
    case 'SESSION_NOT_EXIST':
      return {
        text: 'Your session has ended: it expired or was signed out from another browser.',
        kind: 'info',
      }
    case 'SESSION_REPLACED':
      return { text: 'Your session was replaced by a newer one. Sign in again.', kind: 'info' }
    default:
      return { text: 'Your session cookie was not accepted. Sign in again.', kind: 'error' }
  }
}
