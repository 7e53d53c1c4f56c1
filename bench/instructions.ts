/**
 * Machine instructions a scenario server executes per request, counted by valgrind's callgrind:
 * the same count whatever else the machine is doing, so it tells a change of 1–2% apart on a VM
 * whose throughput drifts by more than that from one minute to the next. Each scenario server runs
 * under callgrind (about 50 times slower), takes a warm-up of keep-alive requests until the JIT has
 * settled (1,000 of the other endpoint first, as a server answers both in the HTTP phase), and then counts a window of requests: all threads (the collector's included), and the
 * collector's background threads apart. A major collection comes about every 3,000 requests, so a
 * window of 6,000 repeats within about 1%. Instructions are not time (no cache misses, no syscall
 * cost), so the HTTP phases stay the judge; this says which way a change moves and by how much.
 *
 * Run: `npx tsx bench/instructions.ts [--scenarios bare,ours-memory] [--endpoints write]
 * [--against DIR] [--warmup 6000] [--requests 6000] [--node 26] [--node-flags '--no-memory-reducer'] [--keep]`, where DIR is another copy
 * of lib/ (`git archive HEAD lib | tar -x -C ../before`); `--node` counts the servers on that Node
 * line's binary (bench/node-lines.ts) instead of the running one; `--keep` leaves each window's dump in
 * bench/results/instructions/ for `callgrind_annotate --inclusive=yes`. Needs valgrind (`apt-get install valgrind`);
 * two servers run at a time, about 2.5 minutes a pair. The Redis scenarios share one private
 * redis-server; their count is the server's own (the client's encoding and parsing included), not
 * Redis's, and their ratio is to the bare Redis app.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename, join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildScenario, isScenario, SCENARIO_INFO, type ScenarioName } from './apps'
import { nodeBinary, parseLines } from './node-lines'
import { RedisServer } from './redis'
import { buildLibrary } from './subject'

const CONNECTIONS = 16

interface Job {
  /** The Node binary the server runs on, and the flags it is started with. */
  node: string
  nodeFlags: string[]
  build: string
  library: string
  scenario: ScenarioName
  endpoint: 'read' | 'write'
  redisUrl: string | undefined
}

interface Count {
  job: Job
  perRequest: number
  backgroundPerRequest: number
}

/** `instructions.ts --serve <scenario> [--redis URL]`: the server callgrind runs; prints its port. */
function serve(scenario: string, redisUrl: string | undefined): void {
  if (!isScenario(scenario)) throw new TypeError(`unknown scenario ${scenario}`)
  const { app } = buildScenario(scenario, redisUrl, { redisTimeout: 60_000 })
  const server = app.listen(0, '127.0.0.1', () => {
    console.log(`port ${(server.address() as AddressInfo).port}`)
  })
}

function exchange(agent: Agent, port: number, method: string, path: string, cookie?: string) {
  return new Promise<{ status: number; cookie: string | undefined }>((resolve, reject) => {
    const outgoing = request(
      { host: '127.0.0.1', port, method, path, agent, headers: cookie ? { cookie } : {} },
      (res) => {
        res.resume()
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie']?.[0]?.split(';')[0] }),
        )
      },
    )
    outgoing.on('error', reject)
    outgoing.end()
  })
}

/** Sends `total` requests over CONNECTIONS keep-alive connections, each with its own session. */
async function load(agent: Agent, port: number, job: Job, cookies: string[], total: number): Promise<void> {
  let sent = 0
  const method = job.endpoint === 'read' ? 'GET' : 'POST'
  await Promise.all(
    cookies.map(async (cookie) => {
      while (sent < total) {
        sent++
        const { status } = await exchange(agent, port, method, `/${job.endpoint}`, cookie)
        if (status !== 200) throw new Error(`${job.scenario} ${job.endpoint} answered ${status}`)
      }
    }),
  )
}

/** The instruction total of a callgrind dump file, and that of the collector's worker threads. */
function readDump(file: string): { total: number; background: number } {
  const total = Number(/^summary:\s+(\d+)/m.exec(readFileSync(file, 'utf8'))?.[1])
  const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  })
  const worker = /^\s*([\d,]+) .*PlatformWorkerThread/m.exec(annotated)?.[1] ?? '0'
  return { total, background: Number(worker.replaceAll(',', '')) }
}

async function count(
  job: Job,
  warmup: number,
  requests: number,
  directory: string,
  keep: boolean,
): Promise<Count> {
  const prefix = join(directory, `${job.build}-${job.scenario}-${job.endpoint}`)
  const out = `${prefix}.callgrind`
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      `--callgrind-out-file=${out}`,
      job.node,
      ...job.nodeFlags,
      '--import',
      'tsx',
      __filename,
      '--serve',
      job.scenario,
      ...(job.redisUrl ? ['--redis', job.redisUrl] : []),
    ],
    { env: { ...process.env, BENCH_LIBRARY: job.library }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const port = await new Promise<number>((resolve, reject) => {
    let output = ''
    child.stdout.on('data', (data: Buffer) => {
      output += data
      const found = /port (\d+)/.exec(output)
      if (found) resolve(Number(found[1]))
    })
    child.on('exit', (code) =>
      reject(new Error(`the ${job.scenario} server exited (${code}) before listening`)),
    )
  })
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  try {
    const cookies: string[] = []
    for (let index = 0; index < CONNECTIONS; index++) {
      const { status, cookie } = await exchange(agent, port, 'POST', `/login?uid=u${index}`)
      if (status !== 200 || !cookie) throw new Error(`${job.scenario} login answered ${status}`)
      cookies.push(cookie)
    }
    // the other endpoint first, as in the HTTP phase (and an app), where one server answers both:
    // a write installs the shared `end` that every later response goes through, reads included
    const other = job.endpoint === 'read' ? 'write' : 'read'
    await load(agent, port, { ...job, endpoint: other }, cookies, Math.min(warmup, 1_000))
    await load(agent, port, job, cookies, warmup)
    execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' })
    await load(agent, port, job, cookies, requests)
    execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' })
  } finally {
    agent.destroy()
    child.kill()
    await new Promise((resolve) => child.on('close', resolve))
  }
  // the first dump holds start-up and warm-up, the second the window, the last the shutdown
  const { total, background } = readDump(`${out}.2`)
  for (const file of readdirSync(directory))
    if (file.startsWith(basename(out)) && !(keep && file.endsWith('.2'))) rmSync(join(directory, file))
  return { job, perRequest: total / requests, backgroundPerRequest: background / requests }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      redis: { type: 'string' },
      scenarios: { type: 'string', default: 'bare,ours-memory' },
      endpoints: { type: 'string', default: 'read,write' },
      against: { type: 'string' },
      warmup: { type: 'string', default: '6000' },
      requests: { type: 'string', default: '6000' },
      keep: { type: 'boolean', default: false },
      node: { type: 'string' },
      'node-flags': { type: 'string', default: '' },
    },
  })
  if (values.serve) return serve(values.serve, values.redis)
  const directory = join(__dirname, 'results', 'instructions')
  mkdirSync(directory, { recursive: true })
  const builds: Record<string, string> = { lib: await buildLibrary(join(directory, 'lib')) }
  if (values.against) builds.against = await buildLibrary(join(directory, 'against'), values.against)
  const scenarios = values.scenarios.split(',')
  for (const scenario of scenarios)
    if (!isScenario(scenario)) throw new TypeError(`--scenarios: unknown ${scenario}`)
  const redis = scenarios.some((scenario) => scenario.includes('redis'))
    ? await RedisServer.start()
    : undefined
  const lines = parseLines(values.node ?? '')
  if (lines.length > 1) throw new TypeError('--node: one line at a time')
  const node = lines[0] === undefined ? process.execPath : nodeBinary(lines[0])
  const nodeFlags = values['node-flags'].split(' ').filter((flag) => flag !== '')
  const jobs: Job[] = []
  for (const endpoint of values.endpoints.split(',') as Job['endpoint'][])
    for (const scenario of scenarios as ScenarioName[]) {
      const redisUrl = scenario.includes('redis') ? redis?.url : undefined
      const wanted = scenario.startsWith('ours') ? Object.entries(builds) : [['lib', builds.lib!]]
      for (const [build, library] of wanted)
        jobs.push({ node, nodeFlags, build: build!, library: library!, scenario, endpoint, redisUrl })
    }
  const counts: Count[] = []
  const warmup = Number(values.warmup)
  const requests = Number(values.requests)
  try {
    for (let index = 0; index < jobs.length; index += 2)
      counts.push(
        ...(await Promise.all(
          jobs.slice(index, index + 2).map((job) => count(job, warmup, requests, directory, values.keep)),
        )),
      )
  } finally {
    await redis?.stop()
  }
  console.log(`node ${execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()}`)
  for (const { job, perRequest, backgroundPerRequest } of counts) {
    const baseline = SCENARIO_INFO[job.scenario].baseline
    const bare = counts.find(
      (other) => other.job.scenario === baseline && other.job.endpoint === job.endpoint,
    )
    const ratio = bare ? `  ${baseline} ÷ this ${(bare.perRequest / perRequest).toFixed(3)}` : ''
    const name =
      job.scenario.startsWith('ours') && values.against ? `${job.scenario} (${job.build})` : job.scenario
    console.log(
      `${job.endpoint.padEnd(5)}  ${name.padEnd(24)}  ${Math.round(perRequest).toLocaleString('en-US').padStart(9)} instructions a request  (${Math.round(backgroundPerRequest).toLocaleString('en-US')} in GC threads)${ratio}`,
    )
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
