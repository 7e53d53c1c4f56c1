/**
 * An idle process that logs its own event-loop pauses beside a memory-scale run, on its CPU and at
 * a higher priority: it does no work, so a pause it sees is the machine's (this VM stops even an
 * idle real-time process for 10–25 ms every few seconds), not a store's. The memory phase reports,
 * beside each phase's longest pause, what is left once those stretches are taken out (`longestOwnPause`). On `{ type: 'read' }` it answers
 * the stalls logged since the last read. Run alone, it prints the longest stall of every second.
 */

import { serveRequests } from './children'
import { type Interval, logPauses } from './pauses'

let stop = logPauses()

/** The stalls logged since the last call. */
function stallsSinceLast(): Interval[] {
  const stalls = stop()
  stop = logPauses()
  return stalls
}

if (process.send) {
  serveRequests(async () => ({ stalls: stallsSinceLast() }))
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stop') process.exit(0)
  })
  process.on('disconnect', () => process.exit(0))
  process.send({ type: 'ready' })
} else
  setInterval(() => {
    const longest = Math.max(0, ...stallsSinceLast().map(([start, end]) => end - start))
    console.log(`${new Date().toISOString()} ${longest.toFixed(1)} ms`)
  }, 1000)
