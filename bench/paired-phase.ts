/**
 * Paired comparison of two builds of lib/ (`--paired DIR`): for each of our scenarios, a server
 * on the repository's lib/ and one on DIR share one CPU and take the same load at the same time.
 * The scheduler gives both the same CPU time and machine drift hits both alike, so the ratio of
 * their throughputs is the ratio of their costs, to a few percent; the interleaved http phase
 * moves by up to ±10% from round to round, more than most single changes.
 */
import { SCENARIO_INFO, type ScenarioName } from './apps'
import { Child } from './children'
import { ENDPOINTS, type Endpoint, type HttpConfig, loadOn } from './http-phase'
import type { LoadResult } from './loader'
import { ScenarioServer } from './scenario-server'
import { median, range } from './stats'

/** The http phase's settings that apply here, and the two bundles compared. */
export interface PairedConfig
  extends Pick<
    HttpConfig,
    | 'scenarios'
    | 'rounds'
    | 'seconds'
    | 'warmupSeconds'
    | 'connections'
    | 'redisUrl'
    | 'serverCpus'
    | 'loadCpus'
  > {
  /** Bundles of the repository's lib/ (the baseline) and of the other copy (the candidate). */
  baseline: string
  candidate: string
}

/** One scenario and endpoint: candidate throughput ÷ baseline throughput, per round. */
export interface PairedResult {
  scenario: ScenarioName
  endpoint: Endpoint
  ratios: number[]
  ratio: number
  ratioRange: [number, number]
  baselineRequestsPerSecond: number
  candidateRequestsPerSecond: number
}

export async function pairedPhase(
  config: PairedConfig,
  log: (line: string) => void,
): Promise<PairedResult[]> {
  const results: PairedResult[] = []
  for (const scenario of config.scenarios) {
    const redisUrl = SCENARIO_INFO[scenario].store === 'redis' ? config.redisUrl : undefined
    const sides = await Promise.all(
      [config.baseline, config.candidate].map(async (library) => {
        const loader = new Child('loader.ts', [], { cpus: config.loadCpus })
        await loader.next('ready')
        const server = await ScenarioServer.start(scenario, { redisUrl, cpus: config.serverCpus, library })
        return { loader, server, cookies: await server.login(config.connections) }
      }),
    )
    try {
      const loadBoth = (endpoint: Endpoint, seconds: number) =>
        Promise.all(
          sides.map(async ({ loader, server, cookies }) => {
            const load = loadOn(server, endpoint, config.connections, seconds, cookies)
            return (await loader.request({ type: 'run', load })).result as LoadResult
          }),
        )
      for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
        await loadBoth(endpoint, config.warmupSeconds)
        const rounds: [LoadResult, LoadResult][] = []
        for (let round = 0; round < config.rounds; round++) {
          const [baseline, candidate] = await loadBoth(endpoint, config.seconds)
          rounds.push([baseline!, candidate!])
          log(
            `paired ${scenario} ${endpoint} round ${round + 1}/${config.rounds}: ` +
              `${baseline!.requestsPerSecond.toFixed(0)} vs ${candidate!.requestsPerSecond.toFixed(0)} req/s, ` +
              `ratio ${(candidate!.requestsPerSecond / baseline!.requestsPerSecond).toFixed(3)}`,
          )
        }
        const ratios = rounds.map(
          ([baseline, candidate]) => candidate.requestsPerSecond / baseline.requestsPerSecond,
        )
        results.push({
          scenario,
          endpoint,
          ratios,
          ratio: median(ratios),
          ratioRange: range(ratios),
          baselineRequestsPerSecond: median(rounds.map(([baseline]) => baseline.requestsPerSecond)),
          candidateRequestsPerSecond: median(rounds.map(([, candidate]) => candidate.requestsPerSecond)),
        })
      }
    } finally {
      await Promise.all(sides.flatMap(({ loader, server }) => [server.stop(), loader.stop()]))
    }
  }
  return results
}
