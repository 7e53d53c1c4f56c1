/**
 * One scenario server in its own process: `server.ts <scenario>` listens on a free loopback port,
 * sends `{ type: 'ready', port }` over IPC, and exits on `{ type: 'stop' }`. On request it
 * CPU-profiles itself through the inspector (`profile-start`, then `profile-stop` with the file
 * to write), or samples its allocations (`allocations-start`, `allocations-stop`), so that a
 * profile covers the load alone, not start-up and logins. Started with `BENCH_COUNT_UPDATES=1`, it
 * counts what its store's `update` calls carry and answers the counts to `update-counts`.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import type { AddressInfo } from 'node:net'
import { buildScenario, isScenario, type UpdateCounts } from './apps'
import { type Message, serveRequests } from './children'

let inspector: Session | undefined

function post(method: string, params: object = {}): Promise<unknown> {
  return new Promise((resolve, reject) =>
    inspector!.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  )
}

let updates: UpdateCounts | undefined

async function answer(message: Message): Promise<Record<string, unknown>> {
  if (message.type === 'update-counts') {
    if (!updates) throw new Error('this server does not count updates (BENCH_COUNT_UPDATES)')
    return { ...updates }
  }
  if (message.type === 'profile-start') {
    inspector = new Session()
    inspector.connect()
    await post('Profiler.enable')
    await post('Profiler.setSamplingInterval', { interval: Number(message.intervalMicroseconds ?? 250) })
    await post('Profiler.start')
    return {}
  }
  if (message.type === 'profile-stop') {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown }
    writeFileSync(String(message.file), JSON.stringify(profile))
    inspector?.disconnect()
    inspector = undefined
    return {}
  }
  if (message.type === 'allocations-start') {
    inspector = new Session()
    inspector.connect()
    await post('HeapProfiler.enable')
    await post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    })
    return {}
  }
  if (message.type === 'allocations-stop') {
    const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown }
    writeFileSync(String(message.file), JSON.stringify(profile))
    inspector?.disconnect()
    inspector = undefined
    return {}
  }
  throw new Error(`unknown request ${message.type}`)
}

function main(): void {
  const name = process.argv[2] ?? ''
  if (!isScenario(name)) throw new Error(`unknown scenario ${name}`)
  const built = buildScenario(name, process.env.BENCH_REDIS_URL, {
    countUpdates: process.env.BENCH_COUNT_UPDATES === '1',
  })
  const { app, close } = built
  updates = built.updates
  const server = app.listen(0, '127.0.0.1', () => {
    process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port })
  })
  const stop = async () => {
    server.close()
    server.closeAllConnections()
    await close().catch(() => {})
    process.exit(0)
  }
  process.on('message', (message: Message) => {
    if (message.type === 'stop') void stop()
  })
  process.on('disconnect', () => void stop())
  serveRequests(answer)
}

main()
