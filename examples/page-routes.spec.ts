import request from 'supertest'
import { MemoryStore } from '../lib/stores/memory/memory-store'
import { createExample, type Example } from './app'

const secret = 'test-secret-that-is-long-enough-0123456789'
/** What a browser sends with a form of the app's own pages, which csrfGuard() lets through. */
const OWN_PAGE = { 'sec-fetch-site': 'same-origin' }

describe("examples/page-routes.ts (the demo's pages, as a browser without JavaScript uses them)", () => {
  let example: Example
  let browser: ReturnType<typeof request.agent>

  beforeEach(() => {
    example = createExample({ secret, store: new MemoryStore({ heartbeat: 0 }) })
    browser = request.agent(example.app)
  })
  afterEach(() => example.close())

  const signIn = (fields: Record<string, string> = {}) =>
    browser
      .post('/login')
      .set(OWN_PAGE)
      .type('form')
      .send({ user: 'ada', password: 'demo', ...fields })
      .expect(303)
  const themeShown = async (path: string) =>
    /<html lang="en" data-theme="(\w+)">/.exec((await browser.get(path).expect(200)).text)?.[1]
  const noticeShown = async (path: string) =>
    /<p class="notice info" role="status">([^<]*)<\/p>/.exec((await browser.get(path).expect(200)).text)?.[1]

  describe('the theme', () => {
    it('is light until one is picked', async () => {
      await expect(themeShown('/login')).resolves.toBe('light')
    })

    it('picked before signing in, lives in an anonymous session, which is not a sign-in', async () => {
      const picked = await browser.post('/theme').set(OWN_PAGE).type('form').send({ theme: 'dark' })
      expect([picked.status, picked.headers.location]).toEqual([303, '/login'])
      expect(picked.headers['set-cookie']).toEqual([expect.stringMatching(/^_cookie_vars=\S+; Max-Age=/)])
      await expect(themeShown('/login')).resolves.toBe('dark')
      // signed in means a uid: / and /login do not send this visitor to /profile
      expect((await browser.get('/').expect(303)).headers.location).toBe('/login')
      await browser.get('/profile').expect(303).expect('location', '/login')
    })

    it('is kept by the sign-in, and by a logout after it', async () => {
      await browser.post('/theme').set(OWN_PAGE).type('form').send({ theme: 'dark' }).expect(303)
      await signIn()
      await expect(themeShown('/profile')).resolves.toBe('dark')
      await browser.post('/logout').set(OWN_PAGE).expect(303).expect('location', '/login')
      await expect(themeShown('/login')).resolves.toBe('dark')
    })

    it('picked when signed in, goes back to the profile', async () => {
      await signIn()
      await browser
        .post('/theme')
        .set(OWN_PAGE)
        .type('form')
        .send({ theme: 'dark' })
        .expect(303)
        .expect('location', '/profile')
      await expect(themeShown('/profile')).resolves.toBe('dark')
    })

    it.each([['purple'], ['constructor'], ['']])(
      'refuses %j with 400, starting no session',
      async (theme) => {
        const refused = await browser.post('/theme').set(OWN_PAGE).type('form').send({ theme })
        expect([refused.status, refused.headers['set-cookie']]).toEqual([400, undefined])
      },
    )

    it('refuses a post from another site with 403 CSRF_REJECTED, starting no session', async () => {
      const refused = await browser
        .post('/theme')
        .set('sec-fetch-site', 'cross-site')
        .type('form')
        .send({ theme: 'dark' })
      expect([refused.status, refused.body.code, refused.headers['set-cookie']]).toEqual([
        403,
        214,
        undefined,
      ])
    })
  })

  describe('"Remember me"', () => {
    it('unticked, gives a cookie without Max-Age, which the browser drops when it closes', async () => {
      const signedIn = await signIn()
      expect(signedIn.headers['set-cookie']).toEqual([expect.not.stringMatching(/Max-Age|Expires/i)])
    })

    it('ticked, gives a lasting cookie', async () => {
      const signedIn = await signIn({ remember: 'on' })
      expect(signedIn.headers['set-cookie']).toEqual([expect.stringMatching(/; Max-Age=34560000;/)])
    })

    it('is "remember": true in the JSON API, and off without it', async () => {
      const login = (body: object) =>
        request(example.app)
          .post('/api/login')
          .send({ user: 'ada', password: 'demo', ...body })
          .expect(200)
      const [remembered, once] = [await login({ remember: true }), await login({})]
      expect([remembered.headers['set-cookie'], once.headers['set-cookie']]).toEqual([
        [expect.stringMatching(/; Max-Age=34560000;/)],
        [expect.not.stringMatching(/Max-Age/)],
      ])
    })
  })

  describe('flash notices', () => {
    it('says "You are signed out." on the login page after logout, once', async () => {
      await signIn()
      await browser.post('/logout').set(OWN_PAGE).expect(303).expect('location', '/login')
      await expect(noticeShown('/login')).resolves.toBe('You are signed out.')
      await expect(noticeShown('/login')).resolves.toBeUndefined()
    })

    it('says the token was refreshed on the profile, once', async () => {
      await signIn()
      await browser.post('/refresh').set(OWN_PAGE).expect(303).expect('location', '/profile')
      await expect(noticeShown('/profile')).resolves.toBe(
        'New token issued: the previous one no longer works.',
      )
      await expect(noticeShown('/profile')).resolves.toBeUndefined()
    })

    it('keeps the wrong-password message in the query: a failed sign-in starts no session', async () => {
      const failed = await signIn({ password: 'guess' })
      expect([failed.headers.location, failed.headers['set-cookie']]).toEqual([
        '/login?reason=wrong-password',
        undefined,
      ])
    })
  })
})
