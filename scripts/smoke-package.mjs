// Packs the package and installs the tarball into scratch projects, as users' projects would:
// - with ioredis: `import` and `require` of every entry load, and both give the same classes;
// - without ioredis: an app on MemoryStore type-checks with `skipLibCheck: false`, as ES module
//   and as CommonJS, and its SessionData augmentation types `req.session`.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const versions = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies
const scratch = mkdtempSync(join(tmpdir(), 'cosgo-session-smoke-'))
const run = (command, args, cwd) =>
  execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString()
const install = (cwd, packages) =>
  run('npm', ['install', '--silent', '--no-audit', '--no-fund', ...packages], cwd)

const ENTRIES = {
  'cosgo-session': [
    'sessionMiddleware',
    'MemoryStore',
    'Session',
    'SessionError',
    'login',
    'logout',
    'requireSession',
    'isSessionError',
    'csrfGuard',
  ],
  'cosgo-session/redis': ['RedisStore'],
  'cosgo-session/store': ['deadlineOf', 'isPromise', 'isUserSessionStore'],
  'cosgo-session/testing': ['describeStoreContract', 'sampleRecord'],
}

const APP = `
import express from 'express'
import { login, MemoryStore, requireSession, sessionMiddleware, type Store } from 'cosgo-session'
import type { SessionRecord } from 'cosgo-session/store'

declare module 'cosgo-session' {
  interface SessionData {
    username: string
    visits: number
  }
}

const store: Store = new MemoryStore({ capacity: 100 })
const app = express()
app.use(express.json())
app.use(sessionMiddleware({ store }))
app.post('/login', login(async (req) => ({ uid: String(req.body.user), values: { username: 'a', visits: 0 } })))
app.get('/me', requireSession(), (req, res) => {
  const visits: number = req.session.getNumber('visits') + 1
  req.session.set('visits', visits)
  // @ts-expect-error the augmentation makes visits a number
  req.session.set('visits', 'many')
  res.json({ username: req.session.get('username'), visits })
})
export const seen: SessionRecord['uid'] = 'a'
export default app
`

try {
  const tarball = join(
    scratch,
    run('npm', ['pack', '--silent', '--pack-destination', scratch], root).trim().split('\n').pop(),
  )

  const loads = join(scratch, 'loads')
  mkdirSync(loads)
  writeFileSync(join(loads, 'package.json'), '{"name":"loads","private":true}')
  install(loads, [tarball, `ioredis@${versions.ioredis}`])
  const expected = JSON.stringify(ENTRIES)
  writeFileSync(
    join(loads, 'check.mjs'),
    `import { createRequire } from 'node:module'
    const require = createRequire(import.meta.url)
    for (const [entry, names] of Object.entries(${expected})) {
      const imported = await import(entry)
      const required = require(entry)
      for (const name of names) {
        if (typeof imported[name] !== 'function') throw new Error('import ' + entry + ' lacks ' + name)
        if (imported[name] !== required[name]) throw new Error(entry + ': import and require give two ' + name)
      }
    }
    console.log('import and require: every entry loads, one copy of each export')`,
  )
  process.stdout.write(run('node', ['check.mjs'], loads))

  for (const kind of ['module', 'commonjs']) {
    const app = join(scratch, `types-${kind}`)
    mkdirSync(app)
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: `types-${kind}`, private: true, type: kind }),
    )
    install(app, [
      tarball,
      `express@${versions.express}`,
      `@types/express@${versions['@types/express']}`,
      `@types/node@${versions['@types/node']}`,
    ])
    writeFileSync(join(app, 'app.ts'), APP)
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          esModuleInterop: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
        },
        files: ['app.ts'],
      }),
    )
    run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', app], app)
    console.log(`types (${kind}, no ioredis, skipLibCheck false): ok`)
  }
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
