/** Unit and integration tests: real Express, Connect, node:http and Redis servers on loopback. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/spec', '<rootDir>/examples'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { tsconfig: { verbatimModuleSyntax: false, module: 'commonjs', moduleResolution: 'node10' } },
    ],
  },
  testTimeout: 20000,
}
