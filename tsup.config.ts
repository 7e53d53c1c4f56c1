import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'lib/index.ts', testing: 'lib/testing.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  external: ['@jest/globals'],
})
