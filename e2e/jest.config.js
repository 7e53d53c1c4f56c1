/** Browser tests of the example app: Debian's chromium through playwright-core, one file at a time. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  rootDir: '..',
  roots: ['<rootDir>/e2e'],
  testMatch: ['**/*.e2e.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { tsconfig: { verbatimModuleSyntax: false, module: 'commonjs', moduleResolution: 'node10' } },
    ],
  },
  maxWorkers: 1,
  testTimeout: 60000,
}
