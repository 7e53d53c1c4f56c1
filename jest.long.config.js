/** The long suites (soak, Redis chaos, multi-process): `npm run test:long`, also run by .ci/run. */
const base = require('./jest.config.js')

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/spec/long'],
  testMatch: ['**/*.long.ts'],
  maxWorkers: 1,
  testTimeout: 600_000,
}
