// Packs the package, installs the tarball into a scratch project, and checks that both
// `import` and `require` of every entry point load, as a user's project would.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const scratch = mkdtempSync(join(tmpdir(), 'cosgo-session-smoke-'))
const run = (command, args, cwd) =>
  execFileSync(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString()

try {
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', scratch], root)
    .trim()
    .split('\n')
    .pop()
  writeFileSync(join(scratch, 'package.json'), '{"name":"smoke","private":true}')
  run(
    'npm',
    [
      'install',
      '--silent',
      '--no-audit',
      '--no-fund',
      join(scratch, tarball),
      `ioredis@${process.env.npm_package_devDependencies_ioredis ?? '5'}`,
    ],
    scratch,
  )
  const checks = `
    const expected = ['sessionMiddleware', 'MemoryStore', 'RedisStore', 'login', 'logout', 'requireSession', 'SessionError']
    const check = (what, module) => {
      const missing = expected.filter((name) => typeof module[name] !== 'function')
      if (missing.length) throw new Error(what + ' lacks ' + missing.join(', '))
    }`
  writeFileSync(
    join(scratch, 'check.cjs'),
    `${checks}
    check('require', require('cosgo-session'))
    if (typeof require('cosgo-session/testing').describeStoreContract !== 'function') throw new Error('require testing')
    console.log('require: ok')`,
  )
  writeFileSync(
    join(scratch, 'check.mjs'),
    `${checks}
    check('import', await import('cosgo-session'))
    if (typeof (await import('cosgo-session/testing')).describeStoreContract !== 'function') throw new Error('import testing')
    console.log('import: ok')`,
  )
  process.stdout.write(run('node', ['check.cjs'], scratch))
  process.stdout.write(run('node', ['check.mjs'], scratch))
} finally {
  rmSync(scratch, { recursive: true, force: true })
}
