/**
 * Redis round trips and commands per request: each Redis scenario gets a fresh server whose
 * Redis connection goes through the counting proxy, one session, and a fixed number of
 * sequential requests (one in flight, so turns cannot merge across requests). Round trips are
 * the proxy's turns; commands are `INFO commandstats` deltas, which include the commands a Lua
 * script runs inside Redis as well as the EVALSHA that carried it.
 */
import type { ScenarioName } from './apps'
import { ENDPOINTS, type Endpoint } from './http-phase'
import { CountingProxy } from './proxy'
import { commandDelta, type RedisServer } from './redis'
import { ScenarioServer } from './scenario-server'

export interface RoundTripResult {
  scenario: ScenarioName
  endpoint: Endpoint
  requests: number
  roundTripsPerRequest: number
  commandsPerRequest: number
  /** Calls per request of each command seen, script-internal ones included. */
  commands: Record<string, number>
  bytesPerRequest: { toRedis: number; fromRedis: number }
}

export async function roundTripPhase(
  scenarios: ScenarioName[],
  redis: RedisServer,
  requests: number,
  log: (line: string) => void,
): Promise<RoundTripResult[]> {
  const results: RoundTripResult[] = []
  const stats = redis.client()
  try {
    for (const scenario of scenarios) {
      const proxy = await CountingProxy.start(redis.port)
      const server = await ScenarioServer.start(scenario, { redisUrl: `redis://127.0.0.1:${proxy.port}` })
      try {
        const [cookie] = await server.login(1, 1_000_000)
        for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
          await send(server, endpoint, cookie!, 20)
          const before = proxy.snapshot()
          const commandsBefore = await redis.commandCalls(stats)
          await send(server, endpoint, cookie!, requests)
          const after = proxy.snapshot()
          const commands = commandDelta(commandsBefore, await redis.commandCalls(stats))
          const perRequest = (count: number) => count / requests
          const result: RoundTripResult = {
            scenario,
            endpoint,
            requests,
            roundTripsPerRequest: perRequest(after.turns - before.turns),
            commandsPerRequest: perRequest([...commands.values()].reduce((sum, calls) => sum + calls, 0)),
            commands: Object.fromEntries([...commands].map(([name, calls]) => [name, perRequest(calls)])),
            bytesPerRequest: {
              toRedis: perRequest(after.clientBytes - before.clientBytes),
              fromRedis: perRequest(after.serverBytes - before.serverBytes),
            },
          }
          results.push(result)
          log(
            `${scenario.padEnd(22)} ${endpoint.padEnd(5)} ${result.roundTripsPerRequest.toFixed(2)} round trips, ` +
              `${result.commandsPerRequest.toFixed(2)} commands per request (${describe(result.commands)})`,
          )
        }
      } finally {
        await server.stop()
        await proxy.close()
      }
    }
  } finally {
    stats.disconnect()
  }
  return results
}

export async function send(
  server: ScenarioServer,
  endpoint: Endpoint,
  cookie: string,
  count: number,
): Promise<void> {
  const { method, path } = ENDPOINTS[endpoint]
  for (let index = 0; index < count; index++) {
    const response = await fetch(server.url(path), { method, headers: { cookie } })
    await response.arrayBuffer()
    if (response.status !== 200) throw new Error(`${server.name} ${path} answered ${response.status}`)
  }
}

export function describe(commands: Record<string, number>): string {
  return Object.entries(commands)
    .sort(([, a], [, b]) => b - a)
    .map(([name, calls]) => `${name} ${Number(calls.toFixed(2))}`)
    .join(', ')
}
