/**
 * What a request hands the store at each session size: a check that a one-key write sends only
 * the changed key whatever the session holds. Each size scenario gets a fresh server whose store
 * counts what its `update` calls carry, one session, and sequential reads and writes. For Redis
 * the server's connection goes through the counting proxy as well, which gives the bytes sent
 * and received per request and keeps what was sent, so the check also looks for the session's
 * unchanged keys in the bytes themselves (their names carry a marker no id or token can hold).
 */
import { SCENARIO_INFO, type ScenarioName, SIZE_SCENARIOS } from './apps'
import type { Endpoint } from './http-phase'
import { CountingProxy } from './proxy'
import type { RedisServer } from './redis'
import { send } from './round-trips'
import { ScenarioServer } from './scenario-server'
import { FILLER_MARK, type SessionSize, storedSize } from './session-size'

/** Bytes one write may send beyond the 2-key session's write: `n`'s digits and the like. */
const BYTES_SLACK = 16

export interface RequestFigures {
  /** `update` calls of the store per request, and the keys and JSON bytes of values they carried. */
  updates: number
  keys: number
  valueBytes: number
  /** Redis only, counted at the connection. */
  roundTrips?: number
  bytesToRedis?: number
  bytesFromRedis?: number
}

export interface WriteSizeResult {
  scenario: ScenarioName
  store: 'memory' | 'redis'
  size: SessionSize
  /** What the session holds: keys and bytes of JSON. */
  stored: { keys: number; jsonBytes: number }
  requests: number
  read: RequestFigures
  write: RequestFigures
  /** Redis only: whether the bytes the writes sent held any of the session's unchanged keys. */
  unchangedKeysSent?: boolean
  /**
   * Whether each write handed the store one `update` of the one changed key and, for Redis, sent
   * no unchanged key and no more bytes than the 2-key session's write (within `BYTES_SLACK`).
   */
  onlyChangedKey: boolean
}

export async function writeSizePhase(
  redis: RedisServer | undefined,
  requests: number,
  log: (line: string) => void,
): Promise<WriteSizeResult[]> {
  const results: WriteSizeResult[] = []
  for (const scenario of SIZE_SCENARIOS) {
    const info = SCENARIO_INFO[scenario]
    if (info.store === 'redis' && !redis) continue
    const proxy =
      info.store === 'redis' && redis ? await CountingProxy.start(redis.port, { capture: true }) : undefined
    const server = await ScenarioServer.start(scenario, {
      countUpdates: true,
      ...(proxy ? { redisUrl: `redis://127.0.0.1:${proxy.port}` } : {}),
    })
    try {
      const [cookie] = await server.login(1, 1_000_000)
      const measure = async (endpoint: Endpoint): Promise<{ figures: RequestFigures; sent: Buffer }> => {
        await send(server, endpoint, cookie!, 20)
        const before = await server.updateCounts()
        const connection = proxy?.snapshot()
        proxy?.takeClientBytes()
        await send(server, endpoint, cookie!, requests)
        const after = await server.updateCounts()
        const per = (count: number) => count / requests
        const figures: RequestFigures = {
          updates: per(after.calls - before.calls),
          keys: per(after.keys - before.keys),
          valueBytes: per(after.valueBytes - before.valueBytes),
        }
        if (proxy && connection) {
          const now = proxy.snapshot()
          figures.roundTrips = per(now.turns - connection.turns)
          figures.bytesToRedis = per(now.clientBytes - connection.clientBytes)
          figures.bytesFromRedis = per(now.serverBytes - connection.serverBytes)
        }
        return { figures, sent: proxy?.takeClientBytes() ?? Buffer.alloc(0) }
      }
      const read = await measure('read')
      const write = await measure('write')
      const result: WriteSizeResult = {
        scenario,
        store: info.store,
        size: info.size,
        stored: storedSize(info.size),
        requests,
        read: read.figures,
        write: write.figures,
        onlyChangedKey: write.figures.updates === 1 && write.figures.keys === 1,
      }
      if (proxy) result.unchangedKeysSent = write.sent.includes(FILLER_MARK)
      results.push(result)
    } finally {
      await server.stop()
      await proxy?.close()
    }
  }
  for (const result of results) {
    const reference = results.find((other) => other.store === result.store && other.size === 'keys2')
    const bytes = result.write.bytesToRedis
    if (bytes !== undefined && reference?.write.bytesToRedis !== undefined)
      result.onlyChangedKey &&=
        !result.unchangedKeysSent && bytes <= reference.write.bytesToRedis + BYTES_SLACK
    log(
      `${result.scenario.padEnd(20)} ${result.stored.jsonBytes.toString().padStart(6)} B stored; a write: ` +
        `${result.write.updates.toFixed(2)} updates of ${result.write.keys.toFixed(2)} keys, ` +
        `${result.write.valueBytes.toFixed(1)} B of values` +
        (bytes === undefined
          ? ''
          : `, ${bytes.toFixed(1)} B to Redis, ${result.write.roundTrips?.toFixed(2)} round trips` +
            `${result.unchangedKeysSent ? ', UNCHANGED KEYS SENT' : ''}`) +
        `; only the changed key: ${result.onlyChangedKey ? 'yes' : 'NO'}`,
    )
  }
  return results
}
