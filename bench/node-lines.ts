/**
 * The Node binaries of the lines a run measures (`--node 26,24,22,20`): the running Node for its
 * own major line, else the latest release of the line from the npm registry's `node` package,
 * which scripts/node-line.sh installs once into the git-ignored .node-lines/.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from './children'

/** The major line of the running Node. */
export const OWN_LINE = Number(process.versions.node.split('.')[0])

/** Parses `26,24` into major lines, newest first (the order the tables are printed in). */
export function parseLines(list: string): number[] {
  const lines = list
    .split(',')
    .filter(Boolean)
    .map((item) => {
      const major = Number(item.trim().replace(/^v/, ''))
      if (!(Number.isInteger(major) && major >= 20))
        throw new TypeError(`--node: a line is a major version from 20 up, got ${JSON.stringify(item)}`)
      return major
    })
  return [...new Set(lines)].sort((a, b) => b - a)
}

/** The `node` binary of line `major`, installed first when it is not there yet. */
export function nodeBinary(major: number): string {
  if (major === OWN_LINE) return process.execPath
  const bin = execFileSync('bash', [join(ROOT, 'scripts', 'node-line.sh'), String(major)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim()
  return join(bin, 'node')
}
