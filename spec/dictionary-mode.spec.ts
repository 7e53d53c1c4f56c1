import { execFileSync } from 'node:child_process'
import { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { toDictionaryMode } from '../lib/dictionary-mode'

describe('toDictionaryMode()', () => {
  it('leaves every property, its value and its order as they were, and adds none', () => {
    const object = Object.setPrototypeOf({ url: '/a', method: 'GET', [Symbol.for('k')]: 1 }, { shared: 1 })
    const before = Reflect.ownKeys(object).map((key) => [key, object[key]])
    toDictionaryMode(object, IncomingMessage.prototype)
    expect(Reflect.ownKeys(object).map((key) => [key, object[key]])).toEqual(before)
    expect(object.shared).toBe(1)
  })

  // V8's own view, from a process that may ask it: what the middleware leaves an Express request in
  it('leaves Express requests and responses in dictionary mode, and node:http ones fast', () => {
    const script = `
      import { createServer } from 'node:http'
      import express from 'express'
      import { sessionMiddleware, MemoryStore } from './lib'
      const fast = new Function('object', 'return %HasFastProperties(object)')
      const routes = (req, res) => res.end(JSON.stringify([fast(req), fast(res)]))
      const middleware = sessionMiddleware({ secret: 'a-secret-of-at-least-thirty-two-characters', store: new MemoryStore({ heartbeat: 0 }) })
      const app = express().use(middleware).get('/', routes)
      const plain = (req, res) => middleware(req, res, () => routes(req, res))
      async function main() {
        for (const handler of [app, plain]) {
          const server = createServer(handler).listen(0, '127.0.0.1')
          await new Promise((resolve) => server.once('listening', resolve))
          const response = await fetch('http://127.0.0.1:' + server.address().port + '/')
          console.log(await response.text())
          server.close()
        }
      }
      main()`
    const output = execFileSync(
      join('node_modules', '.bin', 'tsx'),
      ['--allow-natives-syntax', '-e', script],
      { timeout: 15_000 },
    )
    expect(output.toString().trim().split('\n')).toEqual(['[false,false]', '[true,true]'])
  })
})
