/**
 * Real Redis servers for the Redis store's tests: a `redis-server` from PATH on a free loopback
 * port with persistence off and its own temporary directory, a three-master Cluster, process
 * control (pause, resume, kill, restart on the same port) and a proxy that counts round trips.
 * With `REDIS_URL` set, `useRedis()` gives that server instead and only ever touches keys under
 * a prefix unique to the run.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'

const run = promisify(execFile)

/** Whether `redis-server` and `redis-cli` are on PATH, so tests can start (and stop) their own. */
export const hasRedisServer =
  spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0

const MISSING =
  'redis-server is not on PATH: apt-get install redis-server (or set REDIS_URL to a server to use)'

/** Throws the install hint when the tests cannot start a Redis of their own. */
export function requireRedisServer(): void {
  if (!hasRedisServer) throw new Error(MISSING)
}

/** One `redis-server` child process on a loopback port of its own. */
export class RedisServer {
  readonly port: number
  readonly #directory: string
  readonly #config: string
  #process: ChildProcess | undefined
  #output = ''

  private constructor(port: number, directory: string, config: string) {
    this.port = port
    this.#directory = directory
    this.#config = config
  }

  /**
   * Starts a server; `cluster: true` makes it a cluster node (its bus port, port + 10000, is free
   * too); `persistent: true` fsyncs every write to an append-only file, so a kill loses nothing;
   * `config` adds lines to its configuration (`maxmemory 2mb`, `requirepass …`).
   */
  static async start(
    options: { cluster?: boolean; persistent?: boolean; config?: string[] } = {},
  ): Promise<RedisServer> {
    requireRedisServer()
    sweeping ??= sweepOrphans()
    await sweeping
    // another process may bind the free port between the check and redis-server's bind: take another
    for (let attempt = 1; ; attempt++) {
      const server = await RedisServer.#configure(options)
      try {
        await server.#spawn()
        return server
      } catch (error) {
        await server.stop()
        if (attempt >= 5 || !String(error).includes('Address already in use')) throw error
      }
    }
  }

  /** A server's port, directory and configuration, not started. */
  static async #configure(options: { cluster?: boolean; persistent?: boolean; config?: string[] }) {
    const port = await freePort(options.cluster ?? false)
    const directory = await mkdtemp(path.join(os.tmpdir(), DIRECTORY_PREFIX))
    const lines = [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${directory}`,
      'save ""',
      options.persistent ? 'appendonly yes\nappendfsync always' : 'appendonly no',
      'daemonize no',
      'loglevel warning',
      'logfile ""',
    ]
    if (options.cluster)
      lines.push('cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 5000')
    lines.push(...(options.config ?? []))
    const config = path.join(directory, 'redis.conf')
    await writeFile(config, `${lines.join('\n')}\n`)
    return new RedisServer(port, directory, config)
  }

  /** `redis://127.0.0.1:<port>` */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Freezes the process (SIGSTOP): connections stay open but nothing is answered. */
  pause(): void {
    this.#process?.kill('SIGSTOP')
  }

  /** Thaws a paused process (SIGCONT); it answers what it received meanwhile. */
  resume(): void {
    this.#process?.kill('SIGCONT')
  }

  /** Kills the process (SIGKILL): connections drop and the port refuses. */
  async kill(): Promise<void> {
    const child = this.#process
    if (child === undefined) return
    this.#process = undefined
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    await exited(child)
  }

  /** Starts the server again on the same port (empty unless started `persistent`). */
  async restart(): Promise<void> {
    await this.kill()
    await this.#spawn()
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    const child = this.#process
    this.#process = undefined
    if (child !== undefined) {
      child.kill('SIGCONT')
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited(child)
      clearTimeout(timer)
    }
    await rm(this.#directory, { recursive: true, force: true })
  }

  async #spawn(): Promise<void> {
    const child = spawn('redis-server', [this.#config], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#process = child
    await writeFile(path.join(this.#directory, OWNER_FILE), `${process.pid} ${child.pid}`)
    const collect = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-4000)
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    const deadline = Date.now() + 10_000
    while (!(await answersPing(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`redis-server on port ${this.port} did not start:\n${this.#output}`)
      await sleep(20)
    }
  }
}

/** Options of `RedisCluster.start`. */
export interface RedisClusterOptions {
  /** @default 3 */
  masters?: number
  /** Replicas of each master. @default 0 */
  replicas?: number
  /** Lines added to each node's configuration (`cluster-node-timeout 2000`, …). */
  config?: string[]
}

/** A Redis Cluster on loopback (three masters, no replicas, by default), every slot assigned. */
export class RedisCluster {
  readonly nodes: readonly RedisServer[]

  private constructor(nodes: RedisServer[]) {
    this.nodes = nodes
  }

  /**
   * Starts the nodes, joins them with `redis-cli --cluster create`, and waits for `cluster_state:ok`
   * on every node and, with replicas, for every replica to be in sync with its master.
   */
  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const { masters = 3, replicas = 0, config = [] } = options
    const nodes: RedisServer[] = []
    try {
      for (let index = 0; index < masters * (1 + replicas); index++)
        nodes.push(await RedisServer.start({ cluster: true, config }))
      const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
      await run('redis-cli', [
        '--cluster',
        'create',
        ...addresses,
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ])
      const deadline = Date.now() + 30_000
      for (const node of nodes) {
        while (!(await clusterIsOk(node.port)) || !(await replicaInSync(node.port))) {
          if (Date.now() > deadline)
            throw new Error(`cluster node ${node.port} never reported cluster_state:ok and a synced link`)
          await sleep(50)
        }
      }
      return new RedisCluster(nodes)
    } catch (error) {
      await Promise.all(nodes.map((node) => node.stop()))
      throw error
    }
  }

  /** The node on `port`. */
  node(port: number): RedisServer {
    const node = this.nodes.find((candidate) => candidate.port === port)
    if (!node) throw new Error(`no node of this cluster listens on ${port}`)
    return node
  }

  /** The port of the master that serves `slot` now, as the node on `askPort` sees it (`CLUSTER NODES`). */
  async masterOf(slot: number, askPort = this.nodes[0]!.port): Promise<number> {
    const { stdout } = await run('redis-cli', ['-p', String(askPort), 'cluster', 'nodes'])
    for (const line of stdout.trim().split('\n')) {
      const [, address, flags, , , , , , ...ranges] = line.split(' ')
      if (!flags?.includes('master') || flags.includes('fail')) continue
      for (const range of ranges) {
        const [from, to = from] = range.split('-').map(Number)
        if (slot >= from! && slot <= to!) return Number(address!.split('@')[0]!.split(':')[1])
      }
    }
    throw new Error(`no live master serves slot ${slot}`)
  }

  /** The port of a replica of the master on `masterPort`. */
  async replicaOf(masterPort: number): Promise<number> {
    const { stdout } = await run('redis-cli', ['-p', String(masterPort), 'info', 'replication'])
    const port = /slave0:ip=[^,]+,port=(\d+)/.exec(stdout)?.[1]
    if (port === undefined) throw new Error(`the master on ${masterPort} has no replica`)
    return Number(port)
  }

  /** The nodes as ioredis' `Cluster` takes them. */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }))
  }

  /** Stops every node. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()))
  }
}

/** The Redis a test file works against, and a fresh store prefix inside the run's namespace. */
export interface RedisUnderTest {
  url: string
  /** A prefix no other store of this run (or any other run) uses. */
  nextPrefix(): string
  /** The server process when the tests started it themselves; `undefined` with `REDIS_URL`. */
  server: RedisServer | undefined
  /** Removes the run's keys (with `REDIS_URL`) or stops the server. */
  stop(): Promise<void>
}

/**
 * The server under test: `REDIS_URL` when set (its other keys untouched: it is never wiped), else a
 * `redis-server` started for this file.
 */
export async function useRedis(): Promise<RedisUnderTest> {
  const runPrefix = `cosgo-test-${randomBytes(6).toString('hex')}`
  let count = 0
  const nextPrefix = () => `${runPrefix}-${++count}`
  const external = process.env.REDIS_URL
  if (external) {
    return {
      url: external,
      nextPrefix,
      server: undefined,
      stop: () => deleteKeys(external, `${runPrefix}-*`),
    }
  }
  const server = await RedisServer.start()
  return { url: server.url, nextPrefix, server, stop: () => server.stop() }
}

/**
 * A TCP proxy that counts round trips between its clients and one Redis: each burst of client
 * writes that follows a server reply (or opens the connection) is one "turn".
 */
export class CountingProxy {
  roundTrips = 0
  readonly #server: net.Server
  readonly #target: URL
  readonly #sockets = new Set<net.Socket>()

  private constructor(server: net.Server, target: URL) {
    this.#server = server
    this.#target = target
  }

  /** Listens on a free loopback port and forwards to the Redis at `target` (a redis:// URL). */
  static async start(target: string): Promise<CountingProxy> {
    const url = new URL(target)
    const { hostname, port } = url
    const server = net.createServer()
    const proxy = new CountingProxy(server, url)
    server.on('connection', (client) => proxy.#forward(client, hostname || '127.0.0.1', Number(port || 6379)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port
  }

  /** The target's URL (credentials, database) with the proxy as host. */
  get url(): string {
    const url = new URL(this.#target.href)
    url.hostname = '127.0.0.1'
    url.port = String(this.port)
    return url.href
  }

  /** Counts from zero again. */
  reset(): void {
    this.roundTrips = 0
  }

  /** Drops every connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #forward(client: net.Socket, host: string, port: number): void {
    const upstream = net.connect(port, host)
    let serverSpokeLast = true
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        this.#sockets.delete(socket)
        client.destroy()
        upstream.destroy()
      })
    }
    client.on('data', (chunk) => {
      if (serverSpokeLast) this.roundTrips++
      serverSpokeLast = false
      upstream.write(chunk)
    })
    upstream.on('data', (chunk) => {
      serverSpokeLast = true
      client.write(chunk)
    })
  }
}

const DIRECTORY_PREFIX = 'cosgo-redis-'
/** In each server's directory: the pid of the test process that owns it, then the server's pid. */
const OWNER_FILE = 'owner'
let sweeping: Promise<void> | undefined

/**
 * Stops the servers of test runs that were killed before their `afterAll`: a server whose owner
 * is gone, and only if its working directory is still its own (so a reused pid is never hit).
 */
async function sweepOrphans(): Promise<void> {
  for (const name of await readdir(os.tmpdir())) {
    if (!name.startsWith(DIRECTORY_PREFIX)) continue
    const directory = path.join(os.tmpdir(), name)
    const owner = await readFile(path.join(directory, OWNER_FILE), 'utf8').catch(() => '')
    const [ownerPid, serverPid] = owner.split(' ').map(Number)
    if (!ownerPid || isAlive(ownerPid)) continue
    if (serverPid && (await readlink(`/proc/${serverPid}/cwd`).catch(() => '')) === directory)
      process.kill(serverPid, 'SIGKILL')
    await rm(directory, { recursive: true, force: true })
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Resolves after `milliseconds`. */
export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds))
}

async function deleteKeys(url: string, pattern: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true })
  await client.connect()
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      if (keys.length > 0) await client.unlink(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}

/** A random port in 20000–44999 (never 6379) free on loopback, and its cluster bus port too if asked. */
async function freePort(withBus: boolean): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 25000)
    if ((await canListen(port)) && (!withBus || (await canListen(port + 10000)))) return port
  }
  throw new Error('found no free port for redis-server')
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    const done = (answer: boolean) => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    // a server with requirepass answers, if only that it wants a password
    socket.once('data', (chunk) => done(/^(\+PONG|-NOAUTH)/.test(chunk.toString())))
  })
}

/** Whether the node is a master, or a replica whose link to its master is up. */
async function replicaInSync(port: number): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'info', 'replication'])
  return stdout.includes('role:master') || stdout.includes('master_link_status:up')
}

async function clusterIsOk(port: number): Promise<boolean> {
  const { stdout } = await run('redis-cli', ['-p', String(port), 'cluster', 'info'])
  return stdout.includes('cluster_state:ok')
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}
