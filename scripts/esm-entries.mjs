// After `tsc -p tsconfig.build.json` has written the CommonJS build: gives each entry an ES module
// (and its types) that re-exports that build, so an app that both imports and requires the package
// loads one copy of every class, and `instanceof` holds across the two. Takes the build's folder
// as its argument (default: dist).
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const dist = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'dist'))
for (const entry of ['index', 'redis', 'store', 'testing']) {
  const reexport = `export * from './${entry}.js'\n`
  writeFileSync(join(dist, `${entry}.mjs`), reexport)
  writeFileSync(join(dist, `${entry}.d.mts`), reexport)
}
