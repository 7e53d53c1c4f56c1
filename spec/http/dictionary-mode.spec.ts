import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { toDictionaryModeIfExpress } from '../../lib/http/dictionary-mode'
import { FRAMEWORKS } from '../support/apps'

const secret = 'test-secret-that-is-long-enough-0123456789'

describe('toDictionaryModeIfExpress()', () => {
  const expressLike = () =>
    Object.setPrototypeOf({ url: '/a', method: 'GET', [Symbol.for('k')]: 1 }, { app: {}, shared: 1 })

  it('leaves every property, its value and its order as they were, and adds none', () => {
    const object = expressLike()
    const before = Reflect.ownKeys(object).map((key) => [key, object[key]])
    toDictionaryModeIfExpress(object)
    expect(Reflect.ownKeys(object).map((key) => [key, object[key]])).toEqual(before)
    expect(object.shared).toBe(1)
  })

  it('leaves an object that takes no new properties as it was, without throwing', () => {
    const sealed = Object.seal(expressLike())
    expect(() => toDictionaryModeIfExpress(sealed)).not.toThrow()
    const refusing = new Proxy(expressLike(), { set: () => false, deleteProperty: () => false })
    expect(() => toDictionaryModeIfExpress(refusing)).not.toThrow()
    const throwing = new Proxy(expressLike(), {
      set: () => {
        throw new Error('no')
      },
    })
    expect(() => toDictionaryModeIfExpress(throwing)).not.toThrow()
    expect(Reflect.ownKeys(throwing)).toEqual(Reflect.ownKeys(expressLike()))
    expect(Reflect.ownKeys(sealed)).toEqual(Reflect.ownKeys(expressLike()))
  })

  // V8's own view, from a process that may ask it: what the middleware leaves requests in
  it('leaves Express requests and responses in dictionary mode, and Connect and node:http ones fast', () => {
    const script = `
      import { createApp, FRAMEWORKS } from './spec/support/apps'
      import { sendJson } from './lib/http/answers'
      const fast = new Function('object', 'return %HasFastProperties(object)')
      const routes = { 'GET /mode': (req, res) => sendJson(res, 200, [fast(req), fast(res)]) }
      async function main() {
        for (const framework of FRAMEWORKS) {
          const server = createApp(framework, { secret: '${secret}' }, routes).listen(0, '127.0.0.1')
          await new Promise((resolve) => server.once('listening', resolve))
          const response = await fetch('http://127.0.0.1:' + server.address().port + '/mode')
          console.log(framework + ' ' + (await response.text()))
          server.close()
        }
      }
      main()`
    const root = join(__dirname, '../..')
    const output = execFileSync(
      join(root, 'node_modules', '.bin', 'tsx'),
      ['--allow-natives-syntax', '-e', script],
      {
        cwd: root,
        timeout: 15_000,
      },
    )
    expect(output.toString().trim().split('\n')).toEqual(
      FRAMEWORKS.map(
        (framework) => `${framework} ${framework.startsWith('express') ? '[false,false]' : '[true,true]'}`,
      ),
    )
  })
})
