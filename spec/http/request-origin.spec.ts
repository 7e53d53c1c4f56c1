/**
 * The origin a request was sent to, as csrfGuard() compares it: Express's req.protocol and
 * trusted X-Forwarded-Host behind a proxy, the Host header elsewhere, and the socket's TLS.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import connect from 'connect'
import express5 from 'express'
import express4 from 'express4'
import request from 'supertest'
import { sendJson } from '../../lib/http/answers'
import { originOf, requestOrigin } from '../../lib/http/request-origin'

const answerOrigin = (req: IncomingMessage, res: ServerResponse) =>
  sendJson(res, 200, { origin: requestOrigin(req) ?? null })

const expressApp = (version: 'express 5' | 'express 4', trustProxy: boolean) => {
  const app = (version === 'express 5' ? express5() : express4()) as ReturnType<typeof express5>
  if (trustProxy) app.set('trust proxy', 'loopback')
  app.use(answerOrigin)
  return app
}

const originAt = async (server: Parameters<typeof request>[0], headers: Record<string, string>) => {
  const test = request(server).get('/')
  for (const [name, value] of Object.entries(headers)) test.set(name, value)
  return (await test).body.origin
}

const BEHIND_PROXY = {
  host: 'app.internal:3000',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'app.example',
}

describe.each(['express 5', 'express 4'] as const)('requestOrigin() on %s', (version) => {
  it('follows X-Forwarded-Proto and X-Forwarded-Host from a proxy the app trusts', async () => {
    await expect(originAt(expressApp(version, true), BEHIND_PROXY)).resolves.toBe('https://app.example')
  })

  it('takes the first of several forwarded hosts, with its port', async () => {
    const headers = { ...BEHIND_PROXY, 'x-forwarded-host': 'app.example:8443, proxy.internal' }
    await expect(originAt(expressApp(version, true), headers)).resolves.toBe('https://app.example:8443')
  })

  it('ignores forwarded headers without trust proxy: the Host and the socket decide', async () => {
    await expect(originAt(expressApp(version, false), BEHIND_PROXY)).resolves.toBe('http://app.internal:3000')
  })
})

describe('requestOrigin() on connect and node:http', () => {
  it.each([
    ['connect', () => connect().use(answerOrigin)],
    ['node:http', () => createServer(answerOrigin)],
  ])('reads the Host on %s and never a forwarded header', async (_, make) => {
    await expect(originAt(make() as never, BEHIND_PROXY)).resolves.toBe('http://app.internal:3000')
  })

  it.each([
    ['a host in capitals with the default port', 'APP.Example:80', 'http://app.example'],
    ['an IPv6 address', '[::1]:8080', 'http://[::1]:8080'],
    ['a user name', 'evil.example@app.example', null],
    ['a path', 'evil.example/app.example', null],
    ['nothing', '', null],
  ])('reads a Host of %s (%j) as %j', async (_, host, origin) => {
    await expect(originAt(createServer(answerOrigin), { host })).resolves.toBe(origin)
  })

  it('is https on a TLS socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cosgo-tls-'))
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    )
    const server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      answerOrigin,
    )
    const res = await request(server)
      .get('/')
      .set('host', 'app.example')
      .trustLocalhost(true)
      .disableTLSCerts()
    expect(res.body.origin).toBe('https://app.example')
  })
})

describe('originOf()', () => {
  it.each([
    ['https://app.example', 'https://app.example'],
    ['https://app.example:443/page?query#part', 'https://app.example'],
    ['http://bücher.example', 'http://xn--bcher-kva.example'],
    ['null', undefined],
    ['ftp://app.example', undefined],
    ['data:text/html,hello', undefined],
    ['app.example', undefined],
  ])('reads %j as %j', (text, origin) => {
    expect(originOf(text)).toBe(origin)
  })
})
