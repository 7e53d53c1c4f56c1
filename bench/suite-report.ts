/**
 * A run's results as files and as the text printed at its end: the raw figures as JSON and a
 * Markdown summary of every phase, one set of tables per Node line when the run covered several,
 * newest line first.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SCENARIO_INFO, SIZE_SCENARIOS } from './apps'
import { ROOT } from './children'
import type { HttpRun } from './http-phase'
import type { MemoryRun } from './memory-phase'
import type { MiddlewareCost } from './middleware-cost'
import type { PairedResult } from './paired-phase'
import type { ProfileSummary, Share } from './profile'
import {
  COST_TARGETS,
  formatTargets,
  type HttpSummary,
  httpTable,
  markdown,
  memoryTable,
  pairedTable,
  roundTripTable,
  type Target,
} from './report'
import type { RoundTripResult } from './round-trips'
import { SIZE_LABELS } from './session-size'
import type { WriteSizeResult } from './write-sizes'

/** The bundles a run measures (see `bundlesOf` in run.ts); no `library` means lib/ from source. */
export interface Bundles {
  library?: string
  pairedBaseline?: string
  pairedCandidate?: string
}

/** Everything one run on one Node line measured. */
export interface SuiteResult {
  machine: {
    nproc: number
    cpu: string
    memoryGiB: number
    node: string
    redis: string
    commit: string
    uncommittedInLib: boolean
  }
  config: {
    mode: string
    rounds: number
    sizeRounds: number
    seconds: number
    connections: number
    library: string
    lib: string | undefined
    paired: string | undefined
  }
  runs: HttpRun[]
  http: HttpSummary[]
  sizeRuns: HttpRun[]
  sizes: HttpSummary[]
  roundTrips: RoundTripResult[]
  writeSizes: WriteSizeResult[]
  cost: MiddlewareCost[]
  memory: MemoryRun[]
  profiles: ProfileSummary[]
  paired: PairedResult[]
  targets: Target[]
}

/**
 * Writes `results` (one per Node line) to bench/results/ as JSON and Markdown; answers the text to
 * print and the files' names.
 */
export function writeResults(results: SuiteResult[], mode: string): { printed: string; files: string } {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const lines =
    results.length > 1 ? `-node-${results.map(({ machine }) => major(machine.node)).join('-')}` : ''
  const base = join(ROOT, 'bench', 'results', `bench-${mode}${lines}-${stamp}`)
  writeFileSync(`${base}.json`, `${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`)
  const sections =
    results.length === 1
      ? render(results[0]!, '##')
      : results.flatMap((result) => [`## Node ${result.machine.node}`, ...render(result, '###')])
  const title = `# cosgo-session bench, ${mode} run, ${new Date().toISOString()}`
  writeFileSync(`${base}.md`, `${[title, ...sections].join('\n\n')}\n`)
  return { printed: sections.join('\n\n'), files: `${base}.json and .md` }
}

function major(version: string): string {
  return version.replace(/^v/, '').split('.')[0]!
}

function render(result: SuiteResult, heading: string): string[] {
  const { machine: info, config } = result
  const sections = [
    `${info.nproc} x ${info.cpu}, ${info.memoryGiB} GiB, node ${info.node}, ${info.redis.split(' sha=')[0]}, ` +
      `commit ${info.commit}${info.uncommittedInLib ? ' + uncommitted lib/ changes' : ''}, ` +
      `${config.lib ?? 'lib/'} ${config.library === 'bundle' ? 'bundled like the package build' : 'from source via tsx'}, ` +
      `${config.connections} connections, ${config.rounds} rounds of ${config.seconds} s` +
      (result.sizes.length > 0 ? ` (sizes: ${config.sizeRounds} rounds)` : ''),
  ]
  if (result.paired.length > 0)
    sections.push(
      `${heading} Paired comparison: ${config.paired} ÷ lib/ on a shared CPU`,
      pairedTable(result.paired),
    )
  if (result.http.length > 0) sections.push(`${heading} Throughput and latency`, httpTable(result.http))
  if (result.sizes.length > 0 || result.writeSizes.length > 0)
    sections.push(`${heading} Session size`, sizeTable(result.sizes, result.writeSizes))
  if (result.roundTrips.length > 0)
    sections.push(`${heading} Redis round trips and commands`, roundTripTable(result.roundTrips))
  if (result.cost.length > 0)
    sections.push(`${heading} The middleware alone, in-process`, costTable(result.cost))
  if (result.memory.length > 0) sections.push(`${heading} Memory stores at scale`, memoryTable(result.memory))
  for (const profile of result.profiles)
    sections.push(
      `${heading} Profile: ${profile.scenario} ${profile.endpoint}`,
      `${profile.load.requestsPerSecond.toFixed(0)} req/s under the profiler, ` +
        `${profile.microsecondsPerRequest.toFixed(0)} CPU µs per request; ${profile.file}`,
      'Self time (% of busy samples, µs per request):',
      shares(profile.topSelf),
      'By owner:',
      shares(profile.owners),
      'By area:',
      shares(profile.areas),
      'Our functions, inclusive (callees counted):',
      shares(profile.libInclusive),
      ...(profile.allocations
        ? [
            `Allocations: ${profile.allocations.bytesPerRequest.toFixed(0)} bytes per request (sampled); by function:`,
            profile.allocations.top
              .map((entry) => `- ${entry.bytesPerRequest.toFixed(0)} B  ${entry.name}`)
              .join('\n'),
          ]
        : []),
    )
  sections.push(`${heading} Targets`, `\`\`\`\n${formatTargets(result.targets)}\n\`\`\``)
  return sections
}

const fixed = (value: number | undefined, digits = 0) =>
  value !== undefined && Number.isFinite(value) ? value.toFixed(digits) : '-'

/**
 * One row per store and session size: throughput, its ratio to the 2-key session's in the same
 * round, and server CPU per request for a read and a write (the sizes phase), then what a write
 * handed the store and, for Redis, sent at the connection (the writes phase).
 */
export function sizeTable(sizes: HttpSummary[], writes: WriteSizeResult[]): string {
  const rows = SIZE_SCENARIOS.flatMap((scenario) => {
    const info = SCENARIO_INFO[scenario]
    const of = (endpoint: 'read' | 'write') =>
      sizes.find((summary) => summary.scenario === scenario && summary.endpoint === endpoint)
    const check = writes.find((result) => result.scenario === scenario)
    const read = of('read')
    const write = of('write')
    if (!(read || write || check)) return []
    const ratio = (summary: HttpSummary | undefined) =>
      info.size === 'keys2' ? '1 (reference)' : fixed(summary?.ratioToBaseline, 3)
    return [
      [
        info.store === 'memory' ? 'MemoryStore' : 'RedisStore',
        SIZE_LABELS[info.size],
        check ? `${check.stored.jsonBytes.toLocaleString('en')} (${check.stored.keys})` : '-',
        fixed(read?.requestsPerSecond),
        ratio(read),
        fixed(read?.serverMicroseconds),
        fixed(write?.requestsPerSecond),
        ratio(write),
        fixed(write?.serverMicroseconds),
        check ? `${fixed(check.write.keys, 2)} (${fixed(check.write.valueBytes, 1)} B)` : '-',
        check?.write.bytesToRedis === undefined
          ? ''
          : `${fixed(check.write.bytesToRedis)} / ${fixed(check.write.bytesFromRedis)}`,
        check?.write.roundTrips === undefined
          ? ''
          : `${fixed(check.read.roundTrips, 2)} / ${fixed(check.write.roundTrips, 2)}`,
        check ? (check.onlyChangedKey ? 'yes' : '**no**') : '-',
      ],
    ]
  })
  return markdown(
    [
      'store',
      'session',
      'stored JSON B (keys)',
      'read req/s',
      'read ÷ 2 keys',
      'read server µs/req',
      'write req/s',
      'write ÷ 2 keys',
      'write server µs/req',
      'write: keys to the store (value B)',
      'write: B sent / received at the Redis connection',
      'round trips read / write',
      'one-key write sends only that key',
    ],
    rows,
  )
}

export function costTable(cost: MiddlewareCost[]): string {
  return markdown(
    ['endpoint', 'build', 'ns a request above a bare handler', 'target'],
    cost.map((entry) => [
      entry.endpoint,
      entry.build,
      fixed(entry.nanoseconds),
      `<= ${COST_TARGETS[entry.endpoint].toLocaleString('en')}`,
    ]),
  )
}

function shares(list: Share[]): string {
  return list
    .map(
      (share) =>
        `- ${share.percent.toFixed(1)}%  ${share.microsecondsPerRequest.toFixed(2)} µs  ${share.name}`,
    )
    .join('\n')
}
