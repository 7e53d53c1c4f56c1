/**
 * Event-loop pauses with the wall-clock time they happened, so that two processes can tell whose a
 * pause was: a store's own, or the machine's (this VM stops even an idle real-time process for
 * 10–25 ms every few seconds). `monitorEventLoopDelay` gives the longest delay but not when.
 */

/** A stretch of wall-clock time, epoch milliseconds. */
export type Interval = [start: number, end: number]

/** Gaps longer than this between ticks of the 1 ms timer count as pauses. */
const THRESHOLD_MS = 2

const epochNow = () => performance.timeOrigin + performance.now()

/**
 * Starts logging pauses: gaps between ticks of a 1 ms timer longer than `THRESHOLD_MS`. The
 * returned function stops and gives them.
 */
export function logPauses(): () => Interval[] {
  const pauses: Interval[] = []
  let last = epochNow()
  const timer = setInterval(() => {
    const now = epochNow()
    if (now - last > THRESHOLD_MS) pauses.push([last, now])
    last = now
  }, 1)
  return () => {
    clearInterval(timer)
    const now = epochNow()
    if (now - last > THRESHOLD_MS) pauses.push([last, now])
    return pauses
  }
}

/**
 * The longest of `pauses` once the time the machine stalled within each (`stalls`, seen by an idle
 * process) is taken out: what the paused process itself held the loop for, in milliseconds.
 */
export function longestOwnPause(pauses: Interval[], stalls: Interval[]): number {
  let longest = 0
  for (const [start, end] of pauses) {
    let stalled = 0
    for (const [from, to] of stalls) stalled += Math.max(0, Math.min(end, to) - Math.max(start, from))
    longest = Math.max(longest, end - start - stalled)
  }
  return longest
}
