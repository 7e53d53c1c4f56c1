/** A scenario server process as the orchestrator sees it: start, log sessions in, stop. */
import { SCENARIO_INFO, type ScenarioName, type UpdateCounts } from './apps'
import { Child, type Message } from './children'

export interface StartOptions {
  redisUrl?: string | undefined
  cpus?: string | undefined
  nodeFlags?: string[]
  /** The bundle the server loads instead of the run's own (`BENCH_LIBRARY`), to compare two builds. */
  library?: string
  /** Count what our store's `update` calls carry (see `updateCounts`): for check servers only. */
  countUpdates?: boolean
}

export class ScenarioServer {
  readonly name: ScenarioName
  readonly #child: Child
  port = 0

  private constructor(name: ScenarioName, child: Child) {
    this.name = name
    this.#child = child
  }

  static async start(name: ScenarioName, options: StartOptions = {}): Promise<ScenarioServer> {
    const child = new Child('server.ts', [name], {
      cpus: options.cpus,
      nodeFlags: options.nodeFlags ?? [],
      env: {
        ...(options.redisUrl ? { BENCH_REDIS_URL: options.redisUrl } : {}),
        ...(options.library ? { BENCH_LIBRARY: options.library } : {}),
        ...(options.countUpdates ? { BENCH_COUNT_UPDATES: '1' } : {}),
      },
    })
    const server = new ScenarioServer(name, child)
    const ready = await child.next('ready')
    server.port = ready.port as number
    return server
  }

  get pid(): number | undefined {
    return this.#child.process.pid
  }

  /** The calls of our store's `update` so far, and what they carried (`countUpdates` servers). */
  async updateCounts(): Promise<UpdateCounts> {
    const { calls, keys, valueBytes } = await this.#child.request({ type: 'update-counts' })
    return { calls: Number(calls), keys: Number(keys), valueBytes: Number(valueBytes) }
  }

  /** Sends the server process a request and resolves its answer. */
  request(message: Message): Promise<Message> {
    return this.#child.request(message)
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`
  }

  /**
   * Logs in `count` users (`u0`, `u1`, ...) through the app's login route and checks that each
   * session reads back; resolves each session's `Cookie` header value.
   */
  async login(count: number, firstUid = 0): Promise<string[]> {
    const cookies: string[] = []
    for (let index = firstUid; index < firstUid + count; index++) {
      const uid = `u${index}`
      const response = await fetch(this.url(`/login?uid=${uid}`), { method: 'POST' })
      const setCookie = response.headers.getSetCookie()[0]
      await response.arrayBuffer()
      if (response.status !== 200 || !setCookie)
        throw new Error(`${this.name}: login of ${uid} answered ${response.status} without a cookie`)
      const cookie = setCookie.split(';')[0]!
      const check = await fetch(this.url('/read'), { headers: { cookie } })
      const body = (await check.json()) as { user?: string }
      const expected = this.name === 'bare' ? 'u1' : uid
      if (check.status !== 200 || body.user !== expected)
        throw new Error(`${this.name}: the session of ${uid} does not read back (${check.status})`)
      cookies.push(cookie)
    }
    return cookies
  }

  get info() {
    return SCENARIO_INFO[this.name]
  }

  stop(): Promise<void> {
    return this.#child.stop()
  }
}
