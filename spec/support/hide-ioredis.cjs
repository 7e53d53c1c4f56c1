// Preloaded (`node --require`) by tests of what happens without ioredis installed: resolving
// `ioredis` then fails as it does when the package is missing.
const Module = require('node:module')

const resolve = Module._resolveFilename
Module._resolveFilename = function resolveWithoutIoredis(request, ...rest) {
  if (request === 'ioredis' || request.startsWith('ioredis/')) {
    const error = new Error(`Cannot find module '${request}'`)
    error.code = 'MODULE_NOT_FOUND'
    throw error
  }
  return resolve.call(this, request, ...rest)
}
