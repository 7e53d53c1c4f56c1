import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The package as an app loads it, `import` and `require` mixed in one process: both must give the
 * one copy of every class, or `requireSession()` would not know the session that a middleware
 * loaded the other way attached. Builds the package into a folder inside node_modules (so the app
 * finds express by walking up) and runs real apps in child processes.
 */
const root = join(__dirname, '..', '..')
const build = join(root, 'node_modules', '.cache', 'cosgo-session-dual-module')
const secret = 'a-secret-for-the-dual-module-test-only'

function runApp(file: string, source: string): unknown {
  writeFileSync(join(build, file), source)
  return JSON.parse(
    execFileSync(process.execPath, [join(build, file)], { cwd: build, timeout: 20_000 }).toString(),
  )
}

/**
 * An app whose middleware comes from `middlewareSide` and whose guarded router's helpers come from
 * `helperSide`; `load` sets both (in an ES module, `require` is made with createRequire).
 */
const program = (load: string) => `
import { createRequire } from 'node:module'
import { once } from 'node:events'
const require = createRequire(import.meta.url)
const express = require('express')
${load}
const app = express()
app.use(middlewareSide.sessionMiddleware({ secret: '${secret}' }))
const admin = express.Router()
admin.get('/me', helperSide.requireSession(), (req, res) => res.json({ uid: req.session.uid }))
admin.post('/login', helperSide.login(() => ({ uid: 'ada' })))
app.use('/admin', admin)
const server = app.listen(0, '127.0.0.1')
await once(server, 'listening')
const base = 'http://127.0.0.1:' + server.address().port + '/admin'
const anonymous = await fetch(base + '/me')
const loggedIn = await fetch(base + '/login', { method: 'POST' })
const me = await fetch(base + '/me', { headers: { _cookie_vars: loggedIn.headers.get('_cookie_vars') } })
server.close()
console.log(JSON.stringify({
  sameClasses: middlewareSide.Session === helperSide.Session && middlewareSide.SessionError === helperSide.SessionError,
  anonymous: [anonymous.status, (await anonymous.json()).error],
  login: loggedIn.status,
  me: [me.status, await me.json()],
}))
`

const expected = {
  sameClasses: true,
  anonymous: [401, 'TOKEN_EMPTY'],
  login: 200,
  me: [200, { uid: 'ada' }],
}

describe('the package loaded with import and require in one process', () => {
  beforeAll(() => {
    rmSync(build, { recursive: true, force: true })
    mkdirSync(build, { recursive: true })
    const tsc = join(root, 'node_modules', '.bin', 'tsc')
    execFileSync(tsc, ['-p', join(root, 'tsconfig.build.json'), '--outDir', join(build, 'dist')], {
      cwd: root,
    })
    execFileSync(process.execPath, [join(root, 'scripts', 'esm-entries.mjs'), join(build, 'dist')])
    // a package of its own name, so the apps inside it load it by name through its `exports`
    cpSync(join(root, 'package.json'), join(build, 'package.json'))
  }, 60_000)

  afterAll(() => rmSync(build, { recursive: true, force: true }))

  it('lets requireSession() from import guard a router behind a middleware from require', () => {
    const load =
      "const middlewareSide = require('cosgo-session')\nconst helperSide = await import('cosgo-session')"
    expect(runApp('required-middleware.mjs', program(load))).toEqual(expected)
  })

  it('lets requireSession() from require guard a router behind a middleware from import', () => {
    const load =
      "const middlewareSide = await import('cosgo-session')\nconst helperSide = require('cosgo-session')"
    expect(runApp('imported-middleware.mjs', program(load))).toEqual(expected)
  })
})
