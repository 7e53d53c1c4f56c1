/**
 * The memory-scale phase: each memory store at a million sessions (bench/memory-scale.ts) in a
 * process of its own, watched for other work on the machine and for the machine's own stalls.
 */
import { execFileSync } from 'node:child_process'
import { Child } from './children'
import { type CpuUse, measureCpu } from './cpu'
import { MEMORY_LIBRARIES, type MemoryScaleResult, type PauseResult } from './memory-scale'
import { type Interval, longestOwnPause } from './pauses'

/** What the phase needs of the run's settings. */
export interface MemoryConfig {
  sessions: number
  maxForeignCores: number
  retries: number
}

/** A memory-scale run with the CPU other processes used during it, and how many tries it took. */
export type MemoryRun = MemoryScaleResult & {
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
export async function memoryPhase(
  config: MemoryConfig,
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
