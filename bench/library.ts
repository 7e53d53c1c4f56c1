/**
 * The library under test, as one module: the public surface plus the Redis store. The bench
 * builds it the way the package is built (esbuild through tsup) so that it measures the code
 * users run; `--source` runs lib/ through tsx instead, whose `keepNames` transform adds a
 * `__name()` call to every function expression created per request.
 */
export * from '../lib/index'
export * from '../lib/redis'
