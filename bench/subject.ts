/**
 * The library the scenario processes load: the bundle `BENCH_LIBRARY` names (built by
 * `buildLibrary`), else lib/ straight from source.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type * as Library from './library'

export const library: typeof Library = require(process.env.BENCH_LIBRARY || './library')

/**
 * Bundles bench/library.ts like the package build does, or the same surface of another copy of
 * lib/ (`libDirectory`, to compare a change); resolves the bundle's path.
 */
export async function buildLibrary(directory: string, libDirectory?: string): Promise<string> {
  const { build } = await import('tsup')
  let entry = join(__dirname, 'library.ts')
  if (libDirectory) {
    mkdirSync(directory, { recursive: true })
    entry = join(directory, 'entry.js')
    const from = (file: string) => JSON.stringify(join(resolve(libDirectory), file))
    // lib/ before its folders had the Redis store in lib/redis-store.ts, and exported it from index
    const redis = existsSync(join(libDirectory, 'redis.ts')) ? `export * from ${from('redis')}\n` : ''
    writeFileSync(entry, `export * from ${from('index')}\n${redis}`)
  }
  await build({
    config: false,
    entry: { library: entry },
    outDir: directory,
    format: ['cjs'],
    target: 'node20',
    dts: false,
    sourcemap: false,
    clean: false,
    silent: true,
  })
  return join(directory, 'library.js')
}
