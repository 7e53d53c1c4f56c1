/**
 * `--node 26,24,22,20`: the suite once per Node line. For each line, newest first, an orchestrator
 * (run.ts with the same options but `--node`) runs on that line's binary, so that every server,
 * load generator and store process it starts runs there too (children run on the orchestrator's
 * `process.execPath`). Each receives the bundles built once by this process, runs the phases one
 * line at a time (two lines at once would share the CPUs), and answers its results over IPC; this
 * process then prints and writes one set of tables per line.
 */
import { Child } from './children'
import { nodeBinary } from './node-lines'
import type { Bundles, SuiteResult } from './suite-report'
import { writeResults } from './suite-report'

/** What this needs of the run's settings. */
export interface LinesConfig {
  mode: string
  nodes: number[]
}

export async function runOnLines(
  config: LinesConfig,
  bundles: Bundles,
  log: (line: string) => void,
): Promise<void> {
  const binaries = config.nodes.map((major) => ({ major, node: nodeBinary(major) }))
  const results: SuiteResult[] = []
  for (const { major, node } of binaries) {
    log(`node ${major}: ${node}`)
    const orchestrator = new Child('run.ts', withoutNodeOption(process.argv.slice(2)), {
      node,
      env: { BENCH_BUNDLES: JSON.stringify(bundles), BENCH_LINE: '1' },
    })
    results.push((await orchestrator.next('line-result')).result as SuiteResult)
    await orchestrator.stop()
  }
  const { printed, files } = writeResults(results, config.mode)
  console.log(`\n${printed}\n`)
  log(`results: ${files}`)
}

/** The command line without `--node LIST` (or `--node=LIST`). */
function withoutNodeOption(args: string[]): string[] {
  const kept: string[] = []
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!
    if (arg === '--node') index++
    else if (!arg.startsWith('--node=')) kept.push(arg)
  }
  return kept
}
