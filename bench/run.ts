/**
 * The benchmark suite: `npm run bench` (about 12 minutes) or `npm run bench -- --quick` (about
 * 1.5 minutes). Phases: throughput and latency of six scenario servers (`http`), Redis round
 * trips and commands per request (`roundtrips`), memory stores at a million sessions (`memory`),
 * and, when asked, CPU and allocation profiles of chosen scenarios (`--profile`). Raw results
 * and a Markdown summary go to bench/results/; the exit code is 0 whatever the targets say.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { isScenario, SCENARIO_INFO, SCENARIOS, type ScenarioName } from './apps'
import { Child, canPin, ROOT } from './children'
import { type CpuUse, measureCpu } from './cpu'
import { type HttpRun, httpPhase } from './http-phase'
import { MEMORY_LIBRARIES, type MemoryScaleResult, type PauseResult } from './memory-scale'
import { type PairedResult, pairedPhase } from './paired-phase'
import { type Interval, longestOwnPause } from './pauses'
import { type ProfileSummary, profilePhase, type Share } from './profile'
import { RedisServer } from './redis'
import {
  formatTargets,
  type HttpSummary,
  httpTable,
  memoryTable,
  pairedTable,
  roundTripTable,
  summariseHttp,
  targets,
} from './report'
import { type RoundTripResult, roundTripPhase } from './round-trips'
import { buildLibrary } from './subject'

const HELP = `Usage: npm run bench -- [options]

  --quick              smoke run, about 1.5 minutes (2 rounds of 2 s, 200k sessions)
  --only LIST          phases to run, of http,roundtrips,memory (default: all three)
  --scenarios LIST     scenarios of the http phase (default: ${SCENARIOS.join(',')})
  --rounds N           rounds of the http phase (default 10, quick 2)
  --seconds S          seconds of load per scenario and endpoint in a round (default 4, quick 2)
  --slices N           parts each of those runs in, cycled through the scenarios, so that a swing
                       of the machine's speed falls on all of them (default: 1 s slices)
  --warmup S           seconds of warm-up per scenario and endpoint (default 3, quick 1)
  --connections N      concurrent connections, one session each (default 64)
  --requests N         sequential requests per endpoint for round-trip counting (default 1000, quick 200)
  --sessions N         sessions of the memory-scale phase (default 1000000, quick 200000)
  --profile LIST       also CPU-profile these scenarios (e.g. ours-memory,ours-redis); alone it
                       runs only the profiles unless --only is given
  --profile-seconds S  seconds of load per profiled endpoint (default 10)
  --max-foreign C      repeat a load or memory-scale run during which other processes kept more
                       than C cores busy, steal time included (default 0.25)
  --retries N          repeat such a run at most N times, then keep it (default 3, quick 1), and
                       spend at most 120 s (quick 20 s) on repeated load runs in all
  --source             run lib/ from source through tsx instead of bundled as the package build
                       does (tsx adds a __name() call per function expression: slower)
  --lib DIR            measure another copy of lib/ (bundled the same way), to compare a change
  --paired DIR         compare another copy of lib/ with this one: each of our scenarios runs on
                       both at once, sharing CPU 1, and the report gives DIR's throughput ÷ ours
                       per round (drift falls on both alike: about ±0.03 instead of ±0.1); alone
                       it runs only that comparison (default 6 rounds of 3 s)
  --no-pin             do not pin servers to CPU 1 and load generator and Redis to CPU 0
  --help`

const PHASES = ['http', 'roundtrips', 'memory'] as const
const OUR_SCENARIOS: ScenarioName[] = ['ours-memory', 'ours-redis']
type Phase = (typeof PHASES)[number]

interface Config {
  mode: 'quick' | 'full'
  phases: Phase[]
  scenarios: ScenarioName[]
  rounds: number
  seconds: number
  slices: number
  warmupSeconds: number
  connections: number
  requests: number
  sessions: number
  profile: ScenarioName[]
  profileSeconds: number
  maxForeignCores: number
  retries: number
  retryBudgetSeconds: number
  pin: boolean
  library: 'bundle' | 'source'
  /** The lib/ directory measured, when not the repository's own. */
  lib: string | undefined
  /** The lib/ directory compared with the repository's own by the paired phase. */
  paired: string | undefined
}

function configure(): Config | undefined {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      slices: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      requests: { type: 'string' },
      sessions: { type: 'string' },
      profile: { type: 'string' },
      'profile-seconds': { type: 'string' },
      'max-foreign': { type: 'string' },
      retries: { type: 'string' },
      source: { type: 'boolean', default: false },
      lib: { type: 'string' },
      paired: { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) return undefined
  const quick = values.quick
  const number = (value: string | undefined, fallback: number, name: string) => {
    if (value === undefined) return fallback
    const parsed = Number(value)
    if (!(Number.isFinite(parsed) && parsed > 0)) throw new TypeError(`--${name} must be a positive number`)
    return parsed
  }
  const list = <T extends string>(
    value: string | undefined,
    valid: (item: string) => item is T,
    name: string,
  ) =>
    (value ?? '')
      .split(',')
      .filter(Boolean)
      .map((item) => {
        if (!valid(item)) throw new TypeError(`--${name}: unknown ${item}`)
        return item
      })
  const seconds = number(values.seconds, quick ? 2 : values.paired ? 3 : 4, 'seconds')
  const isPhase = (item: string): item is Phase => (PHASES as readonly string[]).includes(item)
  const profile = list(values.profile, isScenario, 'profile')
  const only = list(values.only, isPhase, 'only')
  return {
    mode: quick ? 'quick' : 'full',
    phases: only.length > 0 ? only : profile.length > 0 || values.paired ? [] : [...PHASES],
    scenarios: values.scenarios ? list(values.scenarios, isScenario, 'scenarios') : [...SCENARIOS],
    rounds: number(values.rounds, quick ? 2 : values.paired ? 6 : 10, 'rounds'),
    seconds,
    slices: Math.round(number(values.slices, Math.max(1, Math.round(seconds)), 'slices')),
    warmupSeconds: number(values.warmup, quick ? 1 : 3, 'warmup'),
    connections: number(values.connections, 64, 'connections'),
    requests: number(values.requests, quick ? 200 : 1000, 'requests'),
    sessions: number(values.sessions, quick ? 200_000 : 1_000_000, 'sessions'),
    profile,
    profileSeconds: number(values['profile-seconds'], 10, 'profile-seconds'),
    maxForeignCores: number(values['max-foreign'], 0.25, 'max-foreign'),
    retries: values.retries === '0' ? 0 : number(values.retries, quick ? 1 : 3, 'retries'),
    retryBudgetSeconds: quick ? 20 : 120,
    pin: !values['no-pin'] && canPin(),
    library: values.source ? 'source' : 'bundle',
    lib: values.lib,
    paired: values.paired,
  }
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim()
    } catch {
      return 'unknown'
    }
  }
  let redis = 'not found'
  try {
    redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim()
  } catch {}
  return {
    nproc: availableParallelism(),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis,
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedInLib: git('status', '--porcelain', '--', 'lib') !== '',
  }
}

/** A memory-scale run with the CPU other processes used during it, and how many tries it took. */
type MemoryRun = MemoryScaleResult & {
  cpu: CpuUse
  attempts: number
  /** The stalls the idle process on the run's CPU saw meanwhile, by wall-clock time. */
  machineStalls: Interval[]
}

/**
 * Each store in a process of its own, one after the other, pinned to the servers' CPU as the HTTP
 * servers are (their collectors' helper threads included). A run during which other processes kept
 * more than `maxForeignCores` busy (steal included) is repeated like an HTTP run: its pauses would
 * measure the machine, not the store. An idle process on the same CPU logs the machine's stalls,
 * and each pause is reported with them taken out too, for diagnosis; the targets judge the whole pause.
 */
async function memoryPhase(
  config: Config,
  cpus: string | undefined,
  log: (line: string) => void,
): Promise<MemoryRun[]> {
  const results: MemoryRun[] = []
  for (const library of MEMORY_LIBRARIES)
    for (let attempt = 1; ; attempt++) {
      const watcher = await startStallWatch(cpus, log)
      const child = new Child(
        'memory-scale.ts',
        [library, String(config.sessions), String(Math.round(config.sessions / 10))],
        { nodeFlags: ['--expose-gc', '--max-old-space-size=4096'], cpus },
      )
      const stop = measureCpu({ store: child.process.pid, bench: process.pid, watcher: watcher.process.pid })
      const result = (await child.next('done')).result as MemoryScaleResult
      const cpu = stop()
      await child.stop()
      const { stalls } = (await watcher.request({ type: 'read' })) as unknown as { stalls: Interval[] }
      await watcher.stop()
      const pause = (phase: PauseResult | { none: string }) => {
        if (!('maxPauseMs' in phase)) return 'none'
        phase.ownPauseMs = longestOwnPause(phase.pauses, stalls)
        return `${phase.maxPauseMs.toFixed(1)} ms (${phase.ownPauseMs.toFixed(1)} ms its own)`
      }
      log(
        `${library.padEnd(16)} ${result.bytesPerSession.toFixed(0)} bytes/session ` +
          `(heap ${result.heapBytesPerSession.toFixed(0)}, array buffers ${result.arrayBufferBytesPerSession.toFixed(0)}), ` +
          `reads ${pause(result.reads)}, eviction ${pause(result.eviction)}, sweep ${pause(result.sweep)}, ` +
          `machine stalls ${stalls.length} (longest ${Math.max(0, ...stalls.map(([start, end]) => end - start)).toFixed(1)} ms), ` +
          `other ${cpu.foreign.toFixed(2)} cores`,
      )
      if (cpu.foreign <= config.maxForeignCores || attempt > config.retries) {
        results.push({ ...result, cpu, attempts: attempt, machineStalls: stalls })
        break
      }
      log(`  ${library}: other processes used ${cpu.foreign.toFixed(2)} cores meanwhile; running it again`)
    }
  return results
}

/**
 * The idle process that watches the machine during a memory-scale run (stall-watch.ts), on the
 * run's CPU (a stall of the other vCPU is not the store's), at a higher priority (nice -10) where
 * the bench may: the scheduler then runs it at each of its timer ticks, within the store's own
 * pauses too. (Real-time priority is no better: on one CPU with the store, it held the CPU for
 * 950 ms at a time, the kernel's real-time budget.)
 */
async function startStallWatch(cpus: string | undefined, log: (line: string) => void): Promise<Child> {
  const watcher = new Child('stall-watch.ts', [], { cpus })
  await watcher.next('ready')
  try {
    execFileSync('renice', ['-n', '-10', '-p', String(watcher.process.pid)], { stdio: 'ignore' })
  } catch {
    log('  stall watch: renice failed; it runs at normal priority')
  }
  return watcher
}

function shares(list: Share[]): string {
  return list
    .map(
      (share) =>
        `- ${share.percent.toFixed(1)}%  ${share.microsecondsPerRequest.toFixed(2)} µs  ${share.name}`,
    )
    .join('\n')
}

async function main(): Promise<void> {
  const config = configure()
  if (!config) return void console.log(HELP)
  const started = Date.now()
  const log = (line: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`)
  const info = machine()
  const serverCpus = config.pin ? '1' : undefined
  const loadCpus = config.pin ? '0' : undefined
  log(
    `${config.mode} run on ${info.nproc} x ${info.cpu}, node ${info.node}; ` +
      (config.pin ? 'servers on CPU 1, load generator and Redis on CPU 0' : 'not pinned'),
  )
  const pairedScenarios = config.paired ? config.scenarios.filter((name) => OUR_SCENARIOS.includes(name)) : []
  const usesRedis =
    config.phases.includes('roundtrips') ||
    pairedScenarios.includes('ours-redis') ||
    [...config.scenarios, ...config.profile].some((name) => SCENARIO_INFO[name].store === 'redis')
  const redis = usesRedis ? await RedisServer.start(loadCpus) : undefined
  const resultsDir = join(ROOT, 'bench', 'results')
  mkdirSync(resultsDir, { recursive: true })
  if (config.library === 'bundle') {
    const build = join(resultsDir, config.lib ? 'build-other' : 'build')
    process.env.BENCH_LIBRARY = await buildLibrary(build, config.lib)
    log(`library: ${config.lib ?? 'lib/'} bundled like the package build, ${process.env.BENCH_LIBRARY}`)
  } else {
    if (config.lib || config.paired)
      throw new TypeError('--lib and --paired need the bundled library; leave out --source')
    delete process.env.BENCH_LIBRARY
    log('library: lib/ from source through tsx')
  }

  let runs: HttpRun[] = []
  let http: HttpSummary[] = []
  let roundTrips: RoundTripResult[] = []
  let memory: MemoryRun[] = []
  let profiles: ProfileSummary[] = []
  let paired: PairedResult[] = []
  try {
    if (config.paired) {
      const baseline = await buildLibrary(join(resultsDir, 'build'))
      const candidate = await buildLibrary(join(resultsDir, 'build-paired'), config.paired)
      log(
        `paired: lib/ against ${config.paired}, ${config.rounds} rounds of ${config.seconds} s at once on one CPU`,
      )
      paired = await pairedPhase(
        {
          ...config,
          scenarios: pairedScenarios,
          redisUrl: redis?.url,
          serverCpus,
          loadCpus,
          baseline,
          candidate,
        },
        log,
      )
    }
    if (config.phases.includes('http')) {
      log(
        `http: ${config.scenarios.length} scenarios x 2 endpoints x ${config.rounds} rounds of ${config.seconds} s ` +
          `in ${config.slices} slices, ${config.connections} connections`,
      )
      runs = await httpPhase(
        { ...config, redisUrl: redis?.url, redisPid: redis?.pid, serverCpus, loadCpus },
        log,
      )
      http = summariseHttp(runs)
    }
    if (config.phases.includes('roundtrips') && redis) {
      log(`round trips: ${config.requests} sequential requests per endpoint`)
      const redisScenarios = SCENARIOS.filter((name) => SCENARIO_INFO[name].store === 'redis')
      roundTrips = await roundTripPhase(redisScenarios, redis, config.requests, log)
    }
    if (config.phases.includes('memory')) {
      log(`memory: ${config.sessions.toLocaleString('en')} sessions per store`)
      memory = await memoryPhase(config, serverCpus, log)
    }
    if (config.profile.length > 0) {
      const directory = join(resultsDir, 'profiles')
      mkdirSync(directory, { recursive: true })
      profiles = await profilePhase(
        {
          scenarios: config.profile,
          seconds: config.profileSeconds,
          connections: config.connections,
          redisUrl: redis?.url,
          serverCpus,
          loadCpus,
          directory,
        },
        log,
      )
    }
  } finally {
    await redis?.stop()
  }

  const lines = targets(http, roundTrips, memory)
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const base = join(resultsDir, `bench-${config.mode}-${stamp}`)
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ machine: info, config, runs, http, roundTrips, memory, profiles, paired, targets: lines }, null, 2)}\n`,
  )
  const sections = [
    `# cosgo-session bench, ${config.mode} run, ${new Date().toISOString()}`,
    `${info.nproc} x ${info.cpu}, ${info.memoryGiB} GiB, node ${info.node}, ${info.redis.split(' sha=')[0]}, ` +
      `commit ${info.commit}${info.uncommittedInLib ? ' + uncommitted lib/ changes' : ''}, ` +
      `${config.lib ?? 'lib/'} ${config.library === 'bundle' ? 'bundled like the package build' : 'from source via tsx'}, ` +
      `${config.connections} connections, ${config.rounds} rounds of ${config.seconds} s`,
  ]
  if (paired.length > 0)
    sections.push(`## Paired comparison: ${config.paired} ÷ lib/ on a shared CPU`, pairedTable(paired))
  if (http.length > 0) sections.push('## Throughput and latency', httpTable(http))
  if (roundTrips.length > 0) sections.push('## Redis round trips and commands', roundTripTable(roundTrips))
  if (memory.length > 0) sections.push('## Memory stores at scale', memoryTable(memory))
  for (const profile of profiles)
    sections.push(
      `## Profile: ${profile.scenario} ${profile.endpoint}`,
      `${profile.load.requestsPerSecond.toFixed(0)} req/s under the profiler, ` +
        `${profile.microsecondsPerRequest.toFixed(0)} CPU µs per request; ${profile.file}`,
      'Self time (% of busy samples, µs per request):',
      shares(profile.topSelf),
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
  sections.push('## Targets', `\`\`\`\n${formatTargets(lines)}\n\`\`\``)
  writeFileSync(`${base}.md`, `${sections.join('\n\n')}\n`)
  console.log(`\n${sections.slice(2).join('\n\n')}\n`)
  log(`results: ${base}.json and .md`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
