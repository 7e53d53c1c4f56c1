/**
 * CPU accounting of a load run from /proc: how much CPU the bench's own processes used, and how
 * much went to everything else on the machine. Other work on a 2-core machine (tests, builds)
 * skews a run; such runs are repeated, and each run records what it saw.
 */
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc times (USER_HZ, 100 on Linux). */
const TICKS = 100

export interface CpuUse {
  /** Cores busy on average over the run, machine-wide. */
  total: number
  /** Cores used by each watched process, by the name it was given. */
  processes: Record<string, number>
  /** Cores used by everything else: `total` minus the watched processes. */
  foreign: number
}

function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number)
  return user! + nice! + system! + irq! + softirq! + steal!
}

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return 0
  }
}

/** Starts measuring; the returned function ends it and gives the use over the interval. */
export function measureCpu(pids: Record<string, number | undefined>): () => CpuUse {
  const watched = Object.entries(pids).filter((entry): entry is [string, number] => entry[1] !== undefined)
  const started = performance.now()
  const machineBefore = machineBusyTicks()
  const before = watched.map(([, pid]) => processTicks(pid))
  return () => {
    const seconds = (performance.now() - started) / 1000
    const cores = (ticks: number) => ticks / TICKS / seconds
    const processes: Record<string, number> = {}
    let ours = 0
    watched.forEach(([name, pid], index) => {
      const used = processTicks(pid) - before[index]!
      ours += used
      processes[name] = cores(used)
    })
    const total = cores(machineBusyTicks() - machineBefore)
    return { total, processes, foreign: Math.max(0, total - cores(ours)) }
  }
}
