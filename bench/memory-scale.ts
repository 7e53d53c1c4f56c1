/**
 * One memory store at scale, in a process of its own (`node --expose-gc`):
 *   memory-scale.ts <library> <sessions> <extra>
 * 1. memory: heapUsed plus arrayBuffers (typed-array storage lives outside the V8 heap) after
 *    full GCs, before and after filling `sessions` sessions of { user: 'u1', n: 0 } with
 *    distinct uids, divided by `sessions`;
 * 2. reads: `extra` reads of random sessions, one per event-loop turn (a read slides the
 *    session's expiry, and in an LRU store moves it to the recent end);
 * 3. eviction (stores with a capacity, set to `sessions`): `extra` more sessions inserted one
 *    per event-loop turn, each evicting the least recent one;
 * 4. expiry sweep (stores that sweep): the clock (`Date.now`) moves two idle lifetimes ahead and
 *    the store's own timer removes every session.
 * Pauses are the maximum of `perf_hooks.monitorEventLoopDelay` (1 ms resolution) over each
 * phase; the longest GC pause in it is reported beside, since a GC pause also blocks the loop.
 * Each phase also logs its pauses over 2 ms by wall-clock time (`logPauses`), so that the memory
 * phase of run.ts can take out of them what an idle process saw the machine stall meanwhile.
 * Sends `{ type: 'done', result }` over IPC.
 */
import { randomBytes } from 'node:crypto'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { randomText } from '../lib/core/random-text'
import { hashSecret, randomId } from '../lib/core/token'
import type { SessionRecord } from '../lib/store'
import { MAX_AGE_SECONDS } from './apps'
import { type Interval, logPauses } from './pauses'
import { library as cosgo } from './subject'
import { expressSession, memorystore } from './vendor'

export const MEMORY_LIBRARIES = ['ours', 'express-session', 'memorystore'] as const
export type MemoryLibrary = (typeof MEMORY_LIBRARIES)[number]

export interface PauseResult {
  /** Longest event-loop delay in the phase, milliseconds, the machine's own stalls included. */
  maxPauseMs: number
  /**
   * The longest pause once the time the machine stalled within it is taken out (set by the memory
   * phase, which watches the machine with an idle process on the same CPU): an estimate of what the
   * store itself held the loop for, for diagnosis. Work of the store in the kernel (page faults)
   * can delay that process too, so it may read low; the targets judge `maxPauseMs`.
   */
  ownPauseMs?: number
  /** The phase's pauses over 2 ms, by wall-clock time, for the memory phase to set `ownPauseMs`. */
  pauses: Interval[]
  /** Longest single GC pause in the phase, milliseconds. */
  maxGcMs: number
  /** Wall time of the phase, milliseconds. */
  elapsedMs: number
  /** Sessions held at the end of the phase. */
  sizeAfter: number
}

export interface MemoryScaleResult {
  library: MemoryLibrary
  sessions: number
  /** Heap and array-buffer bytes together: what the store holds per session. */
  bytesPerSession: number
  heapBytesPerSession: number
  arrayBufferBytesPerSession: number
  heapUsedBefore: number
  heapUsedAfter: number
  rssAfter: number
  fillMs: number
  reads: PauseResult
  /** Undefined where the library has no such mechanism, with the reason. */
  eviction: PauseResult | { none: string }
  sweep: PauseResult | { none: string }
}

/** The parts of a store this measurement drives. */
interface Subject {
  /** Inserts session number `index`; returns its id. */
  insert(index: number): string
  read(id: string): void
  size(): number
  /** Whether the store has its own timer that removes expired sessions. */
  sweeps: string | true
  evicts: string | true
}

const realNow = Date.now
let clockOffset = 0
Date.now = () => realNow() + clockOffset

function subjectOf(library: MemoryLibrary, capacity: number): Subject {
  switch (library) {
    case 'ours': {
      const store = new cosgo.MemoryStore({ capacity, heartbeat: 1 })
      return {
        // The record Session.create builds, with its calls: a randomId(), the hash of a 128-bit
        // token secret, the policy. (express-session's and memorystore's ids below come from
        // randomBytes, as uid-safe draws them.)
        insert(index) {
          const now = Date.now()
          const record: SessionRecord = {
            id: randomId(),
            uid: `u${index}`,
            tokenHash: hashSecret(randomText(16)),
            createdAt: now,
            lastActiveAt: now,
            maxAge: MAX_AGE_SECONDS,
            lifetime: 0,
            values: new Map<string, string | number>([
              ['user', 'u1'],
              ['n', 0],
            ]),
          }
          void store.create(record)
          return record.id
        },
        read(id) {
          void store.get(id)
        },
        size: () => store.size,
        sweeps: true,
        evicts: true,
      }
    }
    case 'express-session': {
      const store = new expressSession.MemoryStore()
      let count = 0
      return {
        // What express-session saves at login: its Cookie, and the app's keys (uid included,
        // as our records hold it too). Ids are uid-safe(24), as express-session generates.
        insert(index) {
          const id = randomBytes(24).toString('base64url')
          store.set(id, sessionData(index))
          count++
          return id
        },
        read(id) {
          store.get(id, noop)
        },
        size: () => count,
        sweeps: 'expired sessions stay until read (lazy expiry on get)',
        evicts: 'unbounded, no capacity option',
      }
    }
    case 'memorystore': {
      const Store = memorystore(expressSession)
      const store = new Store({ checkPeriod: 1000, max: capacity })
      return {
        insert(index) {
          const id = randomBytes(24).toString('base64url')
          store.set(id, sessionData(index))
          return id
        },
        read(id) {
          store.get(id, noop)
        },
        size: () => store.store.itemCount,
        sweeps: true,
        evicts: true,
      }
    }
  }
}

function sessionData(index: number) {
  const cookie = new expressSession.Cookie({
    maxAge: MAX_AGE_SECONDS * 1000,
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
  })
  return { cookie, uid: `u${index}`, user: 'u1', n: 0 }
}

/** Session ids of at most 32 ASCII characters, kept as bytes: no heap object per id. */
class IdList {
  static readonly WIDTH = 32
  readonly #bytes: Buffer
  readonly #lengths: Uint8Array

  constructor(size: number) {
    this.#bytes = Buffer.alloc(size * IdList.WIDTH)
    this.#lengths = new Uint8Array(size)
  }

  set(index: number, id: string): void {
    if (id.length > IdList.WIDTH || Buffer.byteLength(id, 'latin1') !== id.length)
      throw new RangeError(`id ${id} is not ASCII of at most ${IdList.WIDTH} characters`)
    this.#lengths[index] = this.#bytes.write(id, index * IdList.WIDTH, 'latin1')
  }

  get(index: number): string {
    const start = index * IdList.WIDTH
    return this.#bytes.toString('latin1', start, start + this.#lengths[index]!)
  }
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with --expose-gc')
  for (let pass = 0; pass < 3; pass++) gc()
}

const noop = () => {}
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))
const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds))

/** Runs `phase` while watching the event loop and GC; settles when `phase` does. */
async function watched(subject: Subject, phase: () => Promise<void>): Promise<PauseResult> {
  let maxGcMs = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) maxGcMs = Math.max(maxGcMs, entry.duration)
  })
  observer.observe({ entryTypes: ['gc'] })
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  const stopLogging = logPauses()
  const started = performance.now()
  await phase()
  const elapsedMs = performance.now() - started
  await sleep(20)
  const pauses = stopLogging()
  histogram.disable()
  observer.disconnect()
  return { maxPauseMs: histogram.max / 1e6, pauses, maxGcMs, elapsedMs, sizeAfter: subject.size() }
}

async function measure(library: MemoryLibrary, sessions: number, extra: number): Promise<MemoryScaleResult> {
  const subject = subjectOf(library, sessions)
  // The ids are kept as bytes in a buffer allocated before the baseline, not as strings: a store
  // that keeps its ids in another form (ours keeps 16 bytes) must not be charged for the bench's.
  const ids = new IdList(sessions)
  await sleep(50)
  fullGc()
  const { heapUsed: heapUsedBefore, arrayBuffers: arrayBuffersBefore } = process.memoryUsage()
  const fillStarted = performance.now()
  for (let index = 0; index < sessions; index++) {
    ids.set(index, subject.insert(index))
    if (index % 10_000 === 9_999) await nextTurn()
  }
  const fillMs = performance.now() - fillStarted
  await sleep(50)
  fullGc()
  const memory = process.memoryUsage()
  if (subject.size() !== sessions)
    throw new Error(`${library} holds ${subject.size()} of ${sessions} sessions`)

  let seed = 12345
  const reads = await watched(subject, async () => {
    for (let count = 0; count < extra; count++) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      subject.read(ids.get(seed % sessions))
      await nextTurn()
    }
  })

  const eviction =
    subject.evicts === true
      ? await watched(subject, async () => {
          for (let index = sessions; index < sessions + extra; index++) {
            subject.insert(index)
            await nextTurn()
          }
        })
      : { none: subject.evicts }

  const sweep =
    subject.sweeps === true
      ? await watched(subject, async () => {
          clockOffset += 2 * MAX_AGE_SECONDS * 1000
          const deadline = realNow() + 60_000
          while (subject.size() > 0 && realNow() < deadline) await sleep(10)
        })
      : { none: subject.sweeps }

  return {
    library,
    sessions,
    bytesPerSession: (memory.heapUsed - heapUsedBefore + memory.arrayBuffers - arrayBuffersBefore) / sessions,
    heapBytesPerSession: (memory.heapUsed - heapUsedBefore) / sessions,
    arrayBufferBytesPerSession: (memory.arrayBuffers - arrayBuffersBefore) / sessions,
    heapUsedBefore,
    heapUsedAfter: memory.heapUsed,
    rssAfter: memory.rss,
    fillMs,
    reads,
    eviction,
    sweep,
  }
}

if (require.main === module) {
  const [library, sessions, extra] = process.argv.slice(2)
  if (!(MEMORY_LIBRARIES as readonly string[]).includes(library ?? ''))
    throw new Error(`unknown library ${library}`)
  measure(library as MemoryLibrary, Number(sessions), Number(extra)).then(
    (result) => {
      // run by hand (not as the suite's child), it prints what it would have sent
      if (process.send) process.send({ type: 'done', result })
      else console.log(JSON.stringify(result, null, 2))
      process.exit(0)
    },
    (error: unknown) => {
      process.send?.({ type: 'error', message: error instanceof Error ? error.stack : String(error) })
      process.exit(1)
    },
  )
}
