import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

/**
 * The house rules of lib/: arrows point down only (core, then stores, then session, then http,
 * then the entry files), the two stores know nothing of each other, no entry file is imported,
 * and no file grows past 300 lines.
 */
const lib = join(__dirname, '..', '..', 'lib')
const LAYERS = ['core', 'stores', 'session', 'http'] as const
const ENTRY = LAYERS.length

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(folder, entry.name)) : [join(folder, entry.name)],
  )
}

const files = filesUnder(lib).filter((file) => file.endsWith('.ts'))

/** The layer of a lib file: the index of its top folder, or ENTRY for the files at lib/'s top. */
function layerOf(file: string): number {
  const top = relative(lib, file).split('/')[0]!
  const layer = LAYERS.indexOf(top as (typeof LAYERS)[number])
  return layer === -1 ? ENTRY : layer
}

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8')
  return [...source.matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)].map((match) =>
    resolve(dirname(file), match[1]!).concat('.ts'),
  )
}

const edges = files.flatMap((file) => importsOf(file).map((target) => ({ file, target })))
const name = (file: string) => relative(lib, file)

describe('lib/', () => {
  it('has every file in a layer folder or at the top as an entry', () => {
    expect(
      files
        .filter((file) => layerOf(file) === ENTRY)
        .map(name)
        .sort(),
    ).toEqual(['index.ts', 'redis.ts', 'store.ts', 'testing.ts'])
  })

  it('imports only from its own layer or the ones below it', () => {
    const upward = edges.filter(({ file, target }) => layerOf(target) > layerOf(file))
    expect(upward.map(({ file, target }) => `${name(file)} -> ${name(target)}`)).toEqual([])
  })

  it('keeps the memory and Redis stores apart', () => {
    const across = edges.filter(({ file, target }) => {
      const [from, to] = [name(file), name(target)]
      return (
        (from.startsWith('stores/memory/') && to.startsWith('stores/redis/')) ||
        (from.startsWith('stores/redis/') && to.startsWith('stores/memory/'))
      )
    })
    expect(across).toEqual([])
  })

  it('imports no entry file', () => {
    expect(edges.filter(({ target }) => layerOf(target) === ENTRY).map(({ file }) => name(file))).toEqual([])
  })

  it('has no file over 300 lines', () => {
    const long = files.filter((file) => readFileSync(file, 'utf8').split('\n').length > 301).map(name)
    expect(long).toEqual([])
  })
})
