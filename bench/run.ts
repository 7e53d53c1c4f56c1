/**
 * The benchmark suite: `npm run bench` (about 20 minutes) or `npm run bench -- --quick` (about
 * 3 minutes), on the Node that runs it. Phases: throughput and latency of six scenario servers
 * (`http`), the same for ours at three session sizes (`sizes`), Redis round trips and commands per
 * request (`roundtrips`), what a write hands the store at each size (`writes`), the middleware's
 * own cost in-process (`cost`), memory stores at a million sessions (`memory`), and, when asked,
 * CPU and allocation profiles of chosen scenarios (`--profile`). `--node 26,24` runs the chosen
 * phases once per Node line, each in an orchestrator of its own on that line's binary, with the
 * bundle under test built once. Raw results and a Markdown summary go to bench/results/; the exit
 * code is 0 whatever the targets say.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { availableParallelism, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { isScenario, SCENARIO_INFO, SCENARIOS, type ScenarioName, SIZE_SCENARIOS } from './apps'
import { Child, canPin, ROOT } from './children'
import { httpPhase } from './http-phase'
import { runOnLines } from './lines'
import { memoryPhase } from './memory-phase'
import type { MiddlewareCost } from './middleware-cost'
import { parseLines } from './node-lines'
import { pairedPhase } from './paired-phase'
import { profilePhase } from './profile'
import { RedisServer } from './redis'
import { summariseHttp, targets } from './report'
import { roundTripPhase } from './round-trips'
import { buildLibrary } from './subject'
import { type Bundles, type SuiteResult, writeResults } from './suite-report'
import { writeSizePhase } from './write-sizes'

const PHASES = ['http', 'sizes', 'roundtrips', 'writes', 'cost', 'memory'] as const
const PHASES_TEXT = PHASES.join(',')
type Phase = (typeof PHASES)[number]

const HELP = `Usage: npm run bench -- [options]

  --node LIST          run on each of these Node lines, e.g. 26,24,22,20: the running Node for its
                       own line, else the npm registry's node package (scripts/node-line.sh), one
                       table set per line, newest first; the bundle is built once
  --quick              smoke run, about 3 minutes (2 rounds of 2 s, 200k sessions)
  --only LIST          phases to run, of ${PHASES_TEXT} (default: all)
  --scenarios LIST     scenarios of the http phase (default: ${SCENARIOS.join(',')})
  --rounds N           rounds of the http phase (default 10, quick 2)
  --size-rounds N      rounds of the sizes phase (default 4, quick 2)
  --seconds S          seconds of load per scenario and endpoint in a round (default 4, quick 2)
  --slices N           parts each of those runs in, cycled through the scenarios, so that a swing
                       of the machine's speed falls on all of them (default: 1 s slices)
  --warmup S           seconds of warm-up per scenario and endpoint (default 3, quick 1)
  --connections N      concurrent connections, one session each (default 64)
  --requests N         sequential requests per endpoint for round-trip counting and the write-size
                       check (default 1000, quick 200)
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

const OUR_SCENARIOS: ScenarioName[] = ['ours-memory', 'ours-redis']

export interface Config {
  mode: 'quick' | 'full'
  /** Node lines to run on, newest first; empty: the running Node only. */
  nodes: number[]
  phases: Phase[]
  scenarios: ScenarioName[]
  rounds: number
  sizeRounds: number
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
      node: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenarios: { type: 'string' },
      rounds: { type: 'string' },
      'size-rounds': { type: 'string' },
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
  if (values.source && (values.lib || values.paired))
    throw new TypeError('--lib and --paired need the bundled library; leave out --source')
  return {
    mode: quick ? 'quick' : 'full',
    nodes: parseLines(values.node ?? ''),
    phases: only.length > 0 ? only : profile.length > 0 || values.paired ? [] : [...PHASES],
    scenarios: values.scenarios ? list(values.scenarios, isScenario, 'scenarios') : [...SCENARIOS],
    rounds: number(values.rounds, quick ? 2 : values.paired ? 6 : 10, 'rounds'),
    sizeRounds: number(values['size-rounds'], quick ? 2 : 4, 'size-rounds'),
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

/**
 * The bundles a run measures, built once: the one under test (`undefined` with `--source`) and,
 * for `--paired`, lib/ and the other copy. An orchestrator that `--node` started for one line
 * receives them in `BENCH_BUNDLES` instead of building them again.
 */
async function bundlesOf(config: Config, log: (line: string) => void): Promise<Bundles> {
  if (process.env.BENCH_BUNDLES) return JSON.parse(process.env.BENCH_BUNDLES) as Bundles
  const resultsDir = join(ROOT, 'bench', 'results')
  if (config.library === 'source') {
    log('library: lib/ from source through tsx')
    return {}
  }
  const library = await buildLibrary(join(resultsDir, config.lib ? 'build-other' : 'build'), config.lib)
  log(`library: ${config.lib ?? 'lib/'} bundled like the package build, ${library}`)
  if (!config.paired) return { library }
  return {
    library,
    pairedBaseline: await buildLibrary(join(resultsDir, 'build')),
    pairedCandidate: await buildLibrary(join(resultsDir, 'build-paired'), config.paired),
  }
}

export function machine() {
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

/** Runs the chosen phases on the running Node. */
async function runSuite(config: Config, bundles: Bundles, log: (line: string) => void): Promise<SuiteResult> {
  const info = machine()
  const serverCpus = config.pin ? '1' : undefined
  const loadCpus = config.pin ? '0' : undefined
  log(
    `${config.mode} run on ${info.nproc} x ${info.cpu}, node ${info.node}; ` +
      (config.pin ? 'servers on CPU 1, load generator and Redis on CPU 0' : 'not pinned'),
  )
  if (bundles.library) process.env.BENCH_LIBRARY = bundles.library
  else delete process.env.BENCH_LIBRARY
  const pairedScenarios = config.paired ? config.scenarios.filter((name) => OUR_SCENARIOS.includes(name)) : []
  const usesRedis =
    config.phases.some((phase) => phase === 'roundtrips' || phase === 'sizes' || phase === 'writes') ||
    pairedScenarios.includes('ours-redis') ||
    [...config.scenarios, ...config.profile].some((name) => SCENARIO_INFO[name].store === 'redis')
  const redis = usesRedis ? await RedisServer.start(loadCpus) : undefined
  const result: SuiteResult = {
    machine: info,
    config,
    runs: [],
    http: [],
    sizeRuns: [],
    sizes: [],
    roundTrips: [],
    writeSizes: [],
    cost: [],
    memory: [],
    profiles: [],
    paired: [],
    targets: [],
  }
  const httpConfig = { ...config, redisUrl: redis?.url, redisPid: redis?.pid, serverCpus, loadCpus }
  try {
    if (config.paired && bundles.pairedBaseline && bundles.pairedCandidate) {
      log(
        `paired: lib/ against ${config.paired}, ${config.rounds} rounds of ${config.seconds} s at once on one CPU`,
      )
      result.paired = await pairedPhase(
        {
          ...httpConfig,
          scenarios: pairedScenarios,
          baseline: bundles.pairedBaseline,
          candidate: bundles.pairedCandidate,
        },
        log,
      )
    }
    if (config.phases.includes('http')) {
      log(
        `http: ${config.scenarios.length} scenarios x 2 endpoints x ${config.rounds} rounds of ${config.seconds} s ` +
          `in ${config.slices} slices, ${config.connections} connections`,
      )
      result.runs = await httpPhase(httpConfig, log)
      result.http = summariseHttp(result.runs)
    }
    if (config.phases.includes('sizes')) {
      log(`sizes: ours at 3 session sizes x 2 stores, ${config.sizeRounds} rounds of ${config.seconds} s`)
      result.sizeRuns = await httpPhase(
        { ...httpConfig, scenarios: [...SIZE_SCENARIOS], rounds: config.sizeRounds },
        log,
      )
      result.sizes = summariseHttp(result.sizeRuns)
    }
    if (config.phases.includes('roundtrips') && redis) {
      log(`round trips: ${config.requests} sequential requests per endpoint`)
      const redisScenarios = SCENARIOS.filter((name) => SCENARIO_INFO[name].store === 'redis')
      result.roundTrips = await roundTripPhase(redisScenarios, redis, config.requests, log)
    }
    if (config.phases.includes('writes')) {
      log(`writes: what a read and a one-key write hand the store, ${config.requests} of each per size`)
      result.writeSizes = await writeSizePhase(redis, config.requests, log)
    }
    if (config.phases.includes('cost')) {
      log('cost: the middleware alone, in-process (bench/middleware-cost.ts)')
      const child = new Child('middleware-cost.ts', [], { cpus: serverCpus })
      result.cost = (await child.next('result')).result as MiddlewareCost[]
      await child.stop()
    }
    if (config.phases.includes('memory')) {
      log(`memory: ${config.sessions.toLocaleString('en')} sessions per store`)
      result.memory = await memoryPhase(config, serverCpus, log)
    }
    if (config.profile.length > 0) {
      const directory = join(ROOT, 'bench', 'results', 'profiles')
      mkdirSync(directory, { recursive: true })
      result.profiles = await profilePhase(
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
  result.targets = targets(result)
  return result
}

async function main(): Promise<void> {
  const config = configure()
  if (!config) return void console.log(HELP)
  const started = Date.now()
  const log = (line: string) =>
    console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`)
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  const bundles = await bundlesOf(config, log)
  if (config.nodes.length > 0) return runOnLines(config, bundles, log)
  const result = await runSuite(config, bundles, log)
  const { printed, files } = writeResults([result], config.mode)
  if (process.env.BENCH_LINE === '1' && process.send) {
    await new Promise((resolve) => process.send!({ type: 'line-result', result }, resolve))
    process.disconnect()
  } else console.log(`\n${printed}\n`)
  log(`results: ${files}`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
