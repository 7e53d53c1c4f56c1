/**
 * Throughput and latency: every scenario server runs at once (idle but for its turn), and the
 * load generator visits them in turn, read endpoint then write endpoint, for several short
 * rounds; each round starts one scenario later, so order and machine drift fall on all alike.
 * Within a round each scenario's load comes in slices (1 s by default), cycled through all the
 * scenarios: this VM's speed swings by half for 10–30 s at a time, and a round whose scenarios ran
 * 4 s each, one after another, put such a swing on some of them only.
 */
import { SCENARIO_INFO, type ScenarioName } from './apps'
import { Child } from './children'
import { type CpuUse, measureCpu } from './cpu'
import type { LoadRequest, LoadResult } from './loader'
import { ScenarioServer } from './scenario-server'
import { median, rotate } from './stats'

export const ENDPOINTS = {
  read: { method: 'GET', path: '/read' },
  write: { method: 'POST', path: '/write' },
} as const
export type Endpoint = keyof typeof ENDPOINTS

/** One run of load on `endpoint` of `server`: `connections` clients, each with its own session cookie. */
export function loadOn(
  server: ScenarioServer,
  endpoint: Endpoint,
  connections: number,
  seconds: number,
  cookies: string[],
): LoadRequest {
  const { method, path } = ENDPOINTS[endpoint]
  return { url: server.url(path), method, connections, seconds, cookies }
}

export interface HttpConfig {
  scenarios: ScenarioName[]
  rounds: number
  /** Seconds of load per scenario and endpoint in a round, in `slices` parts. */
  seconds: number
  slices: number
  warmupSeconds: number
  connections: number
  redisUrl: string | undefined
  redisPid: number | undefined
  /** A run during which other processes kept more cores than this busy is run again. */
  maxForeignCores: number
  /** How many times a run is repeated at most for that reason. */
  retries: number
  /** Seconds all repetitions together may take; past it runs are kept as they come. */
  retryBudgetSeconds: number
  /** CPUs of the servers and of the load generator (with Redis), when pinned. */
  serverCpus: string | undefined
  loadCpus: string | undefined
}

export interface HttpRun extends LoadResult {
  round: number
  endpoint: Endpoint
  scenario: ScenarioName
  /** Position of this run within its round and endpoint. */
  position: number
  /** CPU use during the accepted attempt. */
  cpu: CpuUse
  /** Attempts made, 1 plus the slices repeated because other processes loaded the machine. */
  attempts: number
}

/** A load run with the CPU it saw and how many tries it took. */
type Attempted = LoadResult & { cpu: CpuUse; attempts: number }

export async function httpPhase(config: HttpConfig, log: (line: string) => void): Promise<HttpRun[]> {
  const loader = new Child('loader.ts', [], { cpus: config.loadCpus })
  const servers = new Map<ScenarioName, { server: ScenarioServer; cookies: string[] }>()
  try {
    await loader.next('ready')
    for (const name of config.scenarios) {
      const needsRedis = SCENARIO_INFO[name].store === 'redis'
      const server = await ScenarioServer.start(name, {
        redisUrl: needsRedis ? config.redisUrl : undefined,
        cpus: config.serverCpus,
      })
      const cookies = await server.login(config.connections)
      servers.set(name, { server, cookies })
    }
    let retryBudget = config.retryBudgetSeconds
    const load = async (
      name: ScenarioName,
      endpoint: Endpoint,
      seconds: number,
      retries = config.retries,
    ): Promise<Attempted> => {
      const { server, cookies } = servers.get(name)!
      const request = loadOn(server, endpoint, config.connections, seconds, cookies)
      const pids: Record<string, number | undefined> = {
        server: server.pid,
        loader: loader.process.pid,
        redis: config.redisPid,
        bench: process.pid,
      }
      for (const [other, { server: idle }] of servers) if (other !== name) pids[`idle ${other}`] = idle.pid
      for (let attempt = 1; ; attempt++) {
        const stop = measureCpu(pids)
        const answer = await loader.request({ type: 'run', load: request })
        const cpu = stop()
        await pause(100)
        if (cpu.foreign <= config.maxForeignCores || attempt > retries || retryBudget < seconds)
          return { ...(answer.result as LoadResult), cpu, attempts: attempt }
        retryBudget -= seconds + 1.1
        log(
          `  ${name} ${endpoint}: other processes used ${cpu.foreign.toFixed(2)} cores meanwhile; running it again`,
        )
        await pause(1000)
      }
    }
    log(`warm-up: ${config.warmupSeconds} s per scenario and endpoint`)
    for (const name of config.scenarios)
      for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[])
        await load(name, endpoint, config.warmupSeconds, 0)
    const runs: HttpRun[] = []
    const sliceSeconds = config.seconds / config.slices
    for (let round = 0; round < config.rounds; round++) {
      for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
        const order = rotate(config.scenarios, round)
        const slices = new Map<ScenarioName, Attempted[]>(order.map((scenario) => [scenario, []]))
        for (let slice = 0; slice < config.slices; slice++)
          for (const scenario of order)
            slices.get(scenario)!.push(await load(scenario, endpoint, sliceSeconds))
        for (const [position, scenario] of order.entries()) {
          const result = joinSlices(slices.get(scenario)!)
          runs.push({ ...result, round, endpoint, scenario, position })
          const failures = result.errors + result.timeouts + result.non2xx
          log(
            `round ${round + 1}/${config.rounds} ${endpoint.padEnd(5)} ${scenario.padEnd(22)} ` +
              `${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  ` +
              `CPU server ${result.cpu.processes.server?.toFixed(2)} loader ${result.cpu.processes.loader?.toFixed(2)}` +
              (config.redisPid ? ` redis ${result.cpu.processes.redis?.toFixed(2)}` : '') +
              ` other ${result.cpu.foreign.toFixed(2)}` +
              (failures ? `  FAILURES ${failures}` : ''),
          )
        }
      }
    }
    return runs
  } finally {
    await Promise.all([...servers.values()].map(({ server }) => server.stop()))
    await loader.stop()
  }
}

/**
 * A scenario's slices of one round as one run: throughput over all their requests, CPU weighted by
 * each slice's length, and the median slice's p50 and p99 (a slice is short enough for one stall of
 * the machine to set its p99).
 */
function joinSlices(slices: Attempted[]): Attempted {
  const seconds = slices.reduce((sum, slice) => sum + slice.seconds, 0)
  const requests = slices.reduce((sum, slice) => sum + slice.requests, 0)
  const sum = (of: (slice: Attempted) => number) => slices.reduce((total, slice) => total + of(slice), 0)
  const weighted = (of: (slice: Attempted) => number) => sum((slice) => of(slice) * slice.seconds) / seconds
  const processes: Record<string, number> = {}
  for (const name of Object.keys(slices[0]!.cpu.processes))
    processes[name] = weighted((slice) => slice.cpu.processes[name] ?? 0)
  return {
    requestsPerSecond: requests / seconds,
    requests,
    seconds,
    p50: median(slices.map((slice) => slice.p50)),
    p99: median(slices.map((slice) => slice.p99)),
    mean: sum((slice) => slice.mean * slice.requests) / requests,
    errors: sum((slice) => slice.errors),
    timeouts: sum((slice) => slice.timeouts),
    non2xx: sum((slice) => slice.non2xx),
    cpu: {
      total: weighted((slice) => slice.cpu.total),
      processes,
      foreign: weighted((slice) => slice.cpu.foreign),
    },
    attempts: 1 + sum((slice) => slice.attempts - 1),
  }
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}
