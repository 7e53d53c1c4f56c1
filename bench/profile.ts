/**
 * CPU profiles of scenario servers under load (the inspector's sampling profiler, 250 µs, over
 * the load alone after a 2 s warm-up), summarised: the functions with
 * the most self time, the areas (our lib/ files, each package, Node internals) they belong to,
 * and the inclusive time of our own functions.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SCENARIO_INFO, type ScenarioName } from './apps'
import { Child } from './children'
import { ENDPOINTS, type Endpoint, loadOn } from './http-phase'
import type { LoadResult } from './loader'
import { ScenarioServer } from './scenario-server'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface AllocationNode {
  callFrame: CallFrame
  selfSize: number
  children: AllocationNode[]
}

interface AllocationProfile {
  head: AllocationNode
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface Share {
  name: string
  /** Percent of busy (non-idle) samples. */
  percent: number
  /** CPU microseconds per request served during the profile (profiling overhead included). */
  microsecondsPerRequest: number
}

export interface ProfileSummary {
  scenario: ScenarioName
  endpoint: Endpoint
  file: string
  load: LoadResult
  busyMs: number
  /** Busy CPU microseconds per request served. */
  microsecondsPerRequest: number
  topSelf: Share[]
  areas: Share[]
  /** The areas by whose code it is: the session library, Express, Node, ioredis, socket writes, V8. */
  owners: Share[]
  /** Our lib/ functions by inclusive time (their callees counted too). */
  libInclusive: Share[]
  /** Bytes allocated per request (sampled, objects collected since included), and by function. */
  allocations?: { bytesPerRequest: number; file: string; top: { name: string; bytesPerRequest: number }[] }
}

export interface ProfileConfig {
  scenarios: ScenarioName[]
  seconds: number
  connections: number
  redisUrl: string | undefined
  serverCpus: string | undefined
  loadCpus: string | undefined
  directory: string
}

export async function profilePhase(
  config: ProfileConfig,
  log: (line: string) => void,
): Promise<ProfileSummary[]> {
  const loader = new Child('loader.ts', [], { cpus: config.loadCpus })
  await loader.next('ready')
  const summaries: ProfileSummary[] = []
  try {
    for (const scenario of config.scenarios) {
      for (const endpoint of Object.keys(ENDPOINTS) as Endpoint[]) {
        const server = await ScenarioServer.start(scenario, {
          redisUrl: SCENARIO_INFO[scenario].store === 'redis' ? config.redisUrl : undefined,
          cpus: config.serverCpus,
        })
        const file = join(config.directory, `${scenario}-${endpoint}-${Date.now()}.cpuprofile`)
        const allocationFile = file.replace(/\.cpuprofile$/, '.heapprofile')
        let load: LoadResult
        let allocations: ProfileSummary['allocations']
        try {
          const cookies = await server.login(config.connections)
          const request = (seconds: number) => loadOn(server, endpoint, config.connections, seconds, cookies)
          await loader.request({ type: 'run', load: request(2) })
          await server.request({ type: 'profile-start', intervalMicroseconds: 250 })
          load = (await loader.request({ type: 'run', load: request(config.seconds) })).result as LoadResult
          await server.request({ type: 'profile-stop', file })
          await server.request({ type: 'allocations-start' })
          const allocationLoad = (await loader.request({ type: 'run', load: request(config.seconds) }))
            .result as LoadResult
          await server.request({ type: 'allocations-stop', file: allocationFile })
          allocations = {
            ...summariseAllocations(
              JSON.parse(readFileSync(allocationFile, 'utf8')) as AllocationProfile,
              allocationLoad.requests,
            ),
            file: allocationFile,
          }
        } finally {
          await server.stop()
        }
        const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, load.requests)
        summaries.push({
          scenario,
          endpoint,
          file,
          load,
          ...summary,
          ...(allocations ? { allocations } : {}),
        })
        log(`profile ${scenario} ${endpoint}: ${load.requestsPerSecond.toFixed(0)} req/s, ${file}`)
      }
    }
  } finally {
    await loader.stop()
  }
  return summaries
}

/** Where a frame's code lives: `lib/<file>`, a package name, `node:<module>`, or a V8 pseudo-frame. */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  if (/\/bench\/results\/[^/]+\/library\.js$/.test(url)) return 'lib (bundle)'
  const lib = /\/lib\/([^/]+\.ts)$/.exec(url)
  if (lib && !url.includes('node_modules')) return `lib/${lib[1]}`
  const modules = url.lastIndexOf('node_modules/')
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!
  }
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  return url.replace(/^file:\/\/.*\/(bench\/)/, '$1')
}

/** Packages of Express 5 and its dependencies that a request runs through. */
const EXPRESS = new Set([
  'express',
  'router',
  'body-parser',
  'content-type',
  'content-disposition',
  'etag',
  'send',
  'mime-types',
  'mime-db',
  'finalhandler',
  'on-finished',
  'path-to-regexp',
  'qs',
  'type-is',
  'accepts',
  'negotiator',
  'parseurl',
  'vary',
  'encodeurl',
  'escape-html',
  'statuses',
  'proxy-addr',
  'fresh',
  'range-parser',
  'http-errors',
  'depd',
  'debug',
  'ms',
  'media-typer',
  'cookie-signature',
  'setprototypeof',
  'merge-descriptors',
])
const IOREDIS = new Set([
  'ioredis',
  'redis-parser',
  '@ioredis/commands',
  'cluster-key-slot',
  'standard-as-callback',
  'denque',
])
const SESSION = new Set([
  'cookie',
  'express-session',
  'connect-redis',
  'memorystore',
  'uid-safe',
  'random-bytes',
])
/** Native functions that write to a socket: the system call and the copy before it. */
const SOCKET_WRITES = new Set([
  'writev',
  'writeUtf8String',
  'writeLatin1String',
  'writeAsciiString',
  'writeBuffer',
])

/** Whose code a frame runs, coarser than its area: what a request's time divides into. */
function ownerOf(frame: CallFrame): string {
  const area = areaOf(frame)
  if (area.startsWith('lib') || SESSION.has(area)) return 'the session library (ours: lib/ and cookie)'
  if (EXPRESS.has(area)) return 'Express and its modules'
  if (IOREDIS.has(area)) return 'ioredis and redis-parser'
  if (area === '(native)')
    return SOCKET_WRITES.has(frame.functionName) ? 'socket writes (system calls)' : 'other native code'
  if (area.startsWith('node:internal/modules') || area === 'tsx' || area.startsWith('bench/'))
    return 'the bench app and its loader'
  if (area.startsWith('node:')) return 'Node (http, streams, net, crypto, timers)'
  if (area === '(garbage collector)') return 'garbage collector'
  if (area === '(program)') return 'V8 outside JavaScript (compiler, runtime)'
  return 'other'
}

function keyOf(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'}  ${areaOf(frame)}:${frame.lineNumber + 1}`
}

export function summarise(
  profile: CpuProfile,
  requests: number,
): Omit<ProfileSummary, 'scenario' | 'endpoint' | 'file' | 'load'> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const self = new Map<string, number>()
  const areas = new Map<string, number>()
  const owners = new Map<string, number>()
  const libInclusive = new Map<string, number>()
  let busy = 0
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0
    const node = byId.get(id)
    if (!node || node.callFrame.functionName === '(idle)') return
    busy += delta
    const key = keyOf(node.callFrame)
    self.set(key, (self.get(key) ?? 0) + delta)
    const area = areaOf(node.callFrame)
    areas.set(area, (areas.get(area) ?? 0) + delta)
    const owner = ownerOf(node.callFrame)
    owners.set(owner, (owners.get(owner) ?? 0) + delta)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      if (!areaOf(frame).startsWith('lib')) continue
      const libKey = keyOf(frame)
      if (seen.has(libKey)) continue
      seen.add(libKey)
      libInclusive.set(libKey, (libInclusive.get(libKey) ?? 0) + delta)
    }
  })
  const shares = (map: Map<string, number>, count: number): Share[] =>
    [...map]
      .sort(([, a], [, b]) => b - a)
      .slice(0, count)
      .map(([name, time]) => ({
        name,
        percent: (100 * time) / busy,
        microsecondsPerRequest: time / requests,
      }))
  return {
    busyMs: busy / 1000,
    microsecondsPerRequest: busy / requests,
    topSelf: shares(self, 25),
    areas: shares(areas, 20),
    owners: shares(owners, 20),
    libInclusive: shares(libInclusive, 20),
  }
}

/** Bytes allocated per request, in total and by allocating function (top 15). */
export function summariseAllocations(
  profile: AllocationProfile,
  requests: number,
): { bytesPerRequest: number; top: { name: string; bytesPerRequest: number }[] } {
  const byFunction = new Map<string, number>()
  let total = 0
  const visit = (node: AllocationNode) => {
    if (node.selfSize > 0) {
      const key = keyOf(node.callFrame)
      byFunction.set(key, (byFunction.get(key) ?? 0) + node.selfSize)
      total += node.selfSize
    }
    for (const child of node.children) visit(child)
  }
  visit(profile.head)
  return {
    bytesPerRequest: total / requests,
    top: [...byFunction]
      .sort(([, a], [, b]) => b - a)
      .slice(0, 15)
      .map(([name, bytes]) => ({ name, bytesPerRequest: bytes / requests })),
  }
}
