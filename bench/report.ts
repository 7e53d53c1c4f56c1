/** Turns raw runs into the summary table and the PASS/FAIL lines against the targets. */
import { SCENARIO_INFO, type ScenarioName } from './apps'
import type { Endpoint, HttpRun } from './http-phase'
import type { MemoryScaleResult, PauseResult } from './memory-scale'
import type { MiddlewareCost } from './middleware-cost'
import type { PairedResult } from './paired-phase'
import type { RoundTripResult } from './round-trips'
import { SIZE_LABELS } from './session-size'
import { median, range } from './stats'
import type { WriteSizeResult } from './write-sizes'

export interface HttpSummary {
  scenario: ScenarioName
  endpoint: Endpoint
  rounds: number
  requestsPerSecond: number
  requestsPerSecondRange: [number, number]
  p50: number
  p99: number
  /** Median over rounds of (this scenario's req/s ÷ its bare baseline's in the same round). */
  ratioToBaseline: number
  ratioToBaselineRange: [number, number]
  /** For ours: median over rounds of (ours ÷ express-session with the same store kind). */
  versusExpressSession?: number
  failures: number
  /** Median cores used by the server, the load generator, Redis and other processes during the runs. */
  cores: { server: number; loader: number; redis: number; foreign: number }
  /** Runs repeated because other processes loaded the machine. */
  repeated: number
  /**
   * Median server CPU time per request served, microseconds: what throughput is bound by when
   * the server is saturated, and far less moved than req/s by other load on the machine.
   */
  serverMicroseconds: number
}

export interface Target {
  name: string
  measured: string
  target: string
  pass: boolean | undefined
}

const PEERS: Partial<Record<ScenarioName, ScenarioName>> = {
  'ours-memory': 'express-session-memory',
  'ours-redis': 'express-session-redis',
}

/** How many times express-session's throughput ours must reach, by store. */
const VERSUS_EXPRESS_SESSION: Partial<Record<ScenarioName, number>> = {
  'ours-memory': 2.0,
  'ours-redis': 1.6,
}

/** The most nanoseconds the middleware may cost in-process above a bare handler. */
export const COST_TARGETS = { read: 1000, write: 2000 } as const

/** What the targets are judged on: the summaries of a run's phases. */
export interface TargetInputs {
  http: HttpSummary[]
  roundTrips: RoundTripResult[]
  memory: MemoryScaleResult[]
  writeSizes: WriteSizeResult[]
  cost: MiddlewareCost[]
}

export function summariseHttp(runs: HttpRun[]): HttpSummary[] {
  const summaries: HttpSummary[] = []
  const find = (round: number, endpoint: Endpoint, scenario: ScenarioName) =>
    runs.find((run) => run.round === round && run.endpoint === endpoint && run.scenario === scenario)
  const perRoundRatio = (mine: HttpRun[], other: ScenarioName) =>
    mine.map((run) => {
      const peer = find(run.round, run.endpoint, other)
      return peer ? run.requestsPerSecond / peer.requestsPerSecond : Number.NaN
    })
  for (const endpoint of ['read', 'write'] as const) {
    const scenarios = [...new Set(runs.filter((run) => run.endpoint === endpoint).map((run) => run.scenario))]
    for (const scenario of scenarios) {
      const mine = runs.filter((run) => run.endpoint === endpoint && run.scenario === scenario)
      const ratios = perRoundRatio(mine, SCENARIO_INFO[scenario].baseline)
      const peer = PEERS[scenario]
      const summary: HttpSummary = {
        scenario,
        endpoint,
        rounds: mine.length,
        requestsPerSecond: median(mine.map((run) => run.requestsPerSecond)),
        requestsPerSecondRange: range(mine.map((run) => run.requestsPerSecond)),
        p50: median(mine.map((run) => run.p50)),
        p99: median(mine.map((run) => run.p99)),
        ratioToBaseline: median(ratios),
        ratioToBaselineRange: range(ratios),
        failures: mine.reduce((sum, run) => sum + run.errors + run.timeouts + run.non2xx, 0),
        cores: {
          server: median(mine.map((run) => run.cpu.processes.server ?? Number.NaN)),
          loader: median(mine.map((run) => run.cpu.processes.loader ?? Number.NaN)),
          redis: median(mine.map((run) => run.cpu.processes.redis ?? Number.NaN)),
          foreign: median(mine.map((run) => run.cpu.foreign)),
        },
        repeated: mine.reduce((sum, run) => sum + run.attempts - 1, 0),
        serverMicroseconds: median(
          mine.map((run) => ((run.cpu.processes.server ?? Number.NaN) * run.seconds * 1e6) / run.requests),
        ),
      }
      if (peer && runs.some((run) => run.scenario === peer))
        summary.versusExpressSession = median(perRoundRatio(mine, peer))
      summaries.push(summary)
    }
  }
  return summaries
}

const isPause = (value: PauseResult | { none: string }): value is PauseResult => 'maxPauseMs' in value

export function targets({ http, roundTrips, memory, writeSizes, cost }: TargetInputs): Target[] {
  const lines: Target[] = []
  const httpOf = (scenario: ScenarioName, endpoint: Endpoint) =>
    http.find((summary) => summary.scenario === scenario && summary.endpoint === endpoint)
  const ratioTarget = (scenario: ScenarioName, endpoint: Endpoint, minimum: number) => {
    const summary = httpOf(scenario, endpoint)
    const baseline = SCENARIO_INFO[scenario].baseline
    lines.push({
      name: `${scenario} ${endpoint} throughput / ${baseline}`,
      measured: summary ? summary.ratioToBaseline.toFixed(3) : 'not run',
      target: `>= ${minimum.toFixed(2)}`,
      pass: summary ? summary.ratioToBaseline >= minimum : undefined,
    })
  }
  ratioTarget('ours-memory', 'read', 0.9)
  ratioTarget('ours-memory', 'write', 0.85)
  ratioTarget('ours-redis', 'read', 0.9)
  ratioTarget('ours-redis', 'write', 0.85)
  for (const [endpoint, expected] of [
    ['read', 1],
    ['write', 2],
  ] as const) {
    const result = roundTrips.find((trip) => trip.scenario === 'ours-redis' && trip.endpoint === endpoint)
    lines.push({
      name: `ours-redis ${endpoint}: Redis round trips per request`,
      measured: result ? result.roundTripsPerRequest.toFixed(2) : 'not run',
      target: `= ${expected}`,
      pass: result ? Math.abs(result.roundTripsPerRequest - expected) < 0.005 : undefined,
    })
  }
  for (const scenario of ['ours-memory', 'ours-redis'] as const)
    for (const endpoint of ['read', 'write'] as const) {
      const summary = httpOf(scenario, endpoint)
      const versus = summary?.versusExpressSession
      const minimum = VERSUS_EXPRESS_SESSION[scenario]!
      lines.push({
        name: `${scenario} ${endpoint} throughput / ${PEERS[scenario]}`,
        measured: versus === undefined ? 'not run' : `${versus.toFixed(2)}x`,
        target: `>= ${minimum.toFixed(2)}x`,
        pass: versus === undefined ? undefined : versus >= minimum,
      })
    }
  for (const endpoint of ['read', 'write'] as const) {
    const measured = cost.find((entry) => entry.endpoint === endpoint && entry.build === 'lib/')
    lines.push({
      name: `middleware alone, in-process: ${endpoint}`,
      measured: measured ? `${measured.nanoseconds.toFixed(0)} ns` : 'not run',
      target: `<= ${COST_TARGETS[endpoint]} ns`,
      pass: measured ? measured.nanoseconds <= COST_TARGETS[endpoint] : undefined,
    })
  }
  for (const result of writeSizes)
    lines.push({
      name: `${result.scenario} one-key write sends only that key (${SIZE_LABELS[result.size]})`,
      measured:
        `${Number(result.write.keys.toFixed(2))} key` +
        (result.write.bytesToRedis === undefined ? '' : `, ${result.write.bytesToRedis.toFixed(0)} B`),
      target: result.store === 'redis' ? '1 key, as many B as at 2 keys' : '1 key',
      pass: result.onlyChangedKey,
    })
  const ours = memory.find((result) => result.library === 'ours')
  lines.push({
    name: `ours MemoryStore heap + array bytes per session at ${ours ? ours.sessions.toLocaleString('en') : '1M'}`,
    measured: ours ? `${ours.bytesPerSession.toFixed(0)} B` : 'not run',
    target: '<= 250 B',
    pass: ours ? ours.bytesPerSession <= 250 : undefined,
  })
  for (const phase of ['sweep', 'eviction'] as const) {
    const result = ours?.[phase]
    const pause = result && isPause(result) ? result.maxPauseMs : undefined
    lines.push({
      name: `ours MemoryStore longest ${phase} pause`,
      measured: pause === undefined ? 'not run' : `${pause.toFixed(1)} ms`,
      target: '<= 10 ms',
      pass: pause === undefined ? undefined : pause <= 10,
    })
  }
  return lines
}

const verdict = (pass: boolean | undefined) => (pass === undefined ? 'SKIP' : pass ? 'PASS' : 'FAIL')

export function formatTargets(lines: Target[]): string {
  const width = Math.max(...lines.map((line) => line.name.length))
  return lines
    .map(
      (line) =>
        `${verdict(line.pass)}  ${line.name.padEnd(width)}  ${line.measured.padStart(9)}  (target ${line.target})`,
    )
    .join('\n')
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-')

/** The throughput table as Markdown: one row per scenario and endpoint. */
export function httpTable(http: HttpSummary[]): string {
  const rows = http.map((summary) => {
    const [low, high] = summary.requestsPerSecondRange
    return [
      summary.endpoint,
      SCENARIO_INFO[summary.scenario].label,
      `${fixed(summary.requestsPerSecond)} (${fixed(low)}–${fixed(high)})`,
      fixed(summary.p50),
      fixed(summary.p99),
      summary.scenario === SCENARIO_INFO[summary.scenario].baseline
        ? '1 (baseline)'
        : fixed(summary.ratioToBaseline, 3),
      summary.versusExpressSession === undefined ? '' : `${fixed(summary.versusExpressSession, 2)}x`,
      fixed(summary.serverMicroseconds),
      `${fixed(summary.cores.server, 2)} / ${fixed(summary.cores.loader, 2)}` +
        (SCENARIO_INFO[summary.scenario].store === 'redis' ? ` / ${fixed(summary.cores.redis, 2)}` : ''),
      summary.repeated ? String(summary.repeated) : '',
      summary.failures ? String(summary.failures) : '',
    ]
  })
  return markdown(
    [
      'endpoint',
      'scenario',
      'req/s median (min–max)',
      'p50 ms',
      'p99 ms',
      '÷ bare',
      '÷ express-session',
      'server CPU µs/req',
      'cores: server / load / redis',
      'runs repeated',
      'errors',
    ],
    rows,
  )
}

export function roundTripTable(results: RoundTripResult[]): string {
  return markdown(
    ['scenario', 'endpoint', 'round trips / req', 'commands / req', 'commands (per request)'],
    results.map((result) => [
      SCENARIO_INFO[result.scenario].label,
      result.endpoint,
      result.roundTripsPerRequest.toFixed(2),
      result.commandsPerRequest.toFixed(2),
      Object.entries(result.commands)
        .sort(([, a], [, b]) => b - a)
        .map(([name, calls]) => `${name} ${Number(calls.toFixed(2))}`)
        .join(', '),
    ]),
  )
}

export function memoryTable(results: MemoryScaleResult[]): string {
  const pause = (value: PauseResult | { none: string }) =>
    isPause(value)
      ? `${value.maxPauseMs.toFixed(1)} ms (GC max ${value.maxGcMs.toFixed(1)} ms; ` +
        `${value.ownPauseMs === undefined ? '' : `${value.ownPauseMs.toFixed(1)} ms without the machine's stalls; `}` +
        `${value.elapsedMs.toFixed(0)} ms total)`
      : `none: ${value.none}`
  return markdown(
    [
      'store',
      'sessions',
      'B/session (heap + array buffers)',
      'fill s',
      'longest pause, reads',
      'longest pause, eviction',
      'longest pause, sweep',
    ],
    results.map((result) => [
      result.library === 'ours'
        ? 'cosgo-session MemoryStore'
        : `${result.library}${result.library === 'express-session' ? ' MemoryStore' : ''}`,
      result.sessions.toLocaleString('en'),
      `${result.bytesPerSession.toFixed(0)} (${result.heapBytesPerSession.toFixed(0)} + ${result.arrayBufferBytesPerSession.toFixed(0)})`,
      (result.fillMs / 1000).toFixed(1),
      pause(result.reads),
      pause(result.eviction),
      pause(result.sweep),
    ]),
  )
}

/** The paired comparison: candidate ÷ baseline throughput on a shared CPU, above 1 when cheaper. */
export function pairedTable(results: PairedResult[]): string {
  return markdown(
    ['scenario', 'endpoint', 'candidate ÷ baseline, median (min–max)', 'baseline req/s', 'candidate req/s'],
    results.map((result) => [
      SCENARIO_INFO[result.scenario].label,
      result.endpoint,
      `${fixed(result.ratio, 3)} (${fixed(result.ratioRange[0], 3)}–${fixed(result.ratioRange[1], 3)})`,
      fixed(result.baselineRequestsPerSecond),
      fixed(result.candidateRequestsPerSecond),
    ]),
  )
}

export function markdown(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')
}
