/**
 * The README's code cannot drift from code that runs. Every TypeScript block in README.md follows an
 * HTML comment: either `<!-- examples/NAME.ts -->`, and then the block is that file or a run of its
 * lines, or `<!-- not checked: reason -->` for a short fragment that cannot run (a `declare module`).
 * Examples import the library from its source (`../lib/index`) where an app names the package
 * (`cosgo-session`); that is the one difference allowed, mapped through ENTRY_POINTS before comparing.
 * The links between the documentation files are checked too, anchors included.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(__dirname, '../..')

/** The file behind each entry point of package.json, and the name an app imports it by. */
const ENTRY_POINTS = new Map([
  ['lib/index.ts', 'cosgo-session'],
  ['lib/redis.ts', 'cosgo-session/redis'],
  ['lib/store.ts', 'cosgo-session/store'],
  ['lib/testing.ts', 'cosgo-session/testing'],
])

/** Fragments are for what cannot run; anything else belongs in examples/. */
const MAX_UNCHECKED_BLOCKS = 2
const MAX_UNCHECKED_LINES = 12

const TYPESCRIPT = new Set(['ts', 'typescript', 'tsx', 'mts', 'cts'])

/** The documentation files whose relative links must lead somewhere. */
const DOCUMENTS = [
  'README.md',
  'bench/README.md',
  'docs/redis.md',
  'docs/reliability.md',
  'docs/writing-a-store.md',
  'examples/README.md',
]

interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number
  language: string
  /** The text of the HTML comment on the last non-blank line before the fence, if there is one. */
  marker: string | undefined
  lines: string[]
}

function read(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8').replace(/\r\n?/g, '\n')
}

/** The fenced code blocks of a Markdown text, with the comment that precedes each. */
function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n')
  const blocks: CodeBlock[] = []
  let open: { fence: string; block: CodeBlock } | undefined
  lines.forEach((text, index) => {
    if (open) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(text)
      if (close?.[1] && close[1][0] === open.fence[0] && close[1].length >= open.fence.length)
        open = undefined
      else open.block.lines.push(text)
      return
    }
    const start = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(text)
    if (!start?.[1]) return
    const before = lines.slice(0, index).filter((line) => line.trim() !== '')
    const comment = /^<!--\s*(.*?)\s*-->$/.exec(before.at(-1)?.trim() ?? '')
    const block = {
      line: index + 1,
      language: (start[2] ?? '').toLowerCase(),
      marker: comment?.[1],
      lines: [],
    }
    blocks.push(block)
    open = { fence: start[1], block }
  })
  return blocks
}

/** `lines` without the blank lines that open and close it, and without trailing spaces. */
function trimmed(lines: readonly string[]): string[] {
  const result = lines.map((line) => line.trimEnd())
  while (result[0] === '') result.shift()
  while (result.at(-1) === '') result.pop()
  return result
}

/** An example's text with each relative import of an entry file replaced by the package's name. */
function asAnAppWritesIt(file: string): string {
  const directory = path.posix.dirname(file)
  const specifier =
    /(\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bdeclare\s+module\s+|\bimport\s+)(['"])(\.[^'"\n]*)\2/g
  return read(file).replace(specifier, (whole, keyword: string, quote: string, relative: string) => {
    const target = path.posix.normalize(path.posix.join(directory, relative))
    for (const candidate of [target, `${target}.ts`, `${target}/index.ts`]) {
      const name = ENTRY_POINTS.get(candidate)
      if (name) return `${keyword}${quote}${name}${quote}`
    }
    return whole
  })
}

/** Where `block` sits in `file` as a run of whole lines, or why it does not. */
function mismatch(block: string[], file: string[]): string | undefined {
  const first = block[0]
  if (first === undefined) return 'the block is empty'
  let closest: { line: number; differs: number } | undefined
  for (let start = 0; start < file.length; start++) {
    if (file[start] !== first) continue
    let same = 1
    while (same < block.length && file[start + same] === block[same]) same++
    if (same === block.length) return undefined
    if (!closest || same > closest.differs) closest = { line: start + 1, differs: same }
  }
  if (!closest) return `its first line is not a line of the file: ${JSON.stringify(first)}`
  const at = closest.line + closest.differs
  return (
    `from the file's line ${closest.line} on, its line ${closest.differs + 1} differs: ` +
    `README ${JSON.stringify(block[closest.differs])}, file line ${at} ${JSON.stringify(file[at - 1] ?? '(end of file)')}`
  )
}

/** Why a README block fails its check, or `undefined` when it passes. */
function problemOf(block: CodeBlock): string | undefined {
  const where = `README.md line ${block.line}`
  if (block.marker === undefined)
    return `${where}: a \`\`\`${block.language} block needs <!-- examples/NAME.ts --> or <!-- not checked: reason --> on the line before it`
  const fragment = /^not checked:\s*(.*)$/.exec(block.marker)
  if (fragment) {
    if (!fragment[1]) return `${where}: say why the block is not checked: <!-- not checked: reason -->`
    if (trimmed(block.lines).length > MAX_UNCHECKED_LINES)
      return `${where}: an unchecked fragment of more than ${MAX_UNCHECKED_LINES} lines belongs in examples/`
    return undefined
  }
  const file = block.marker
  if (!/^examples\/[\w./-]+\.tsx?$/.test(file) || file.split('/').includes('..'))
    return `${where}: the comment before the block must name an example file, such as <!-- examples/quick-start.ts -->, not ${JSON.stringify(file)}`
  if (!existsSync(path.join(ROOT, file))) return `${where}: the block names ${file}, which does not exist`
  const problem = mismatch(trimmed(block.lines), trimmed(asAnAppWritesIt(file).split('\n')))
  return problem && `${where}: the block is not a copy of ${file}: ${problem}`
}

/** GitHub's anchors for the headings of a Markdown text. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  const outside = markdown.replace(/^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?^ {0,3}\1[ \t]*$/gm, '')
  for (const [, heading] of outside.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (heading ?? '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return anchors
}

/** Why a relative link of `document` leads nowhere, one message a broken link. */
function brokenLinks(document: string): string[] {
  const markdown = read(document)
  const outside = markdown.replace(/^ {0,3}(`{3,}|~{3,})[^\n]*\n[\s\S]*?^ {0,3}\1[ \t]*$/gm, '')
  const problems: string[] = []
  for (const [, target] of outside.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue
    const [file = '', anchor] = target.split('#')
    const linked =
      file === '' ? document : path.posix.normalize(path.posix.join(path.posix.dirname(document), file))
    if (!existsSync(path.join(ROOT, linked)))
      problems.push(`${document} links to ${target}: no file ${linked}`)
    else if (anchor !== undefined && linked.endsWith('.md') && !anchorsOf(read(linked)).has(anchor))
      problems.push(`${document} links to ${target}: ${linked} has no heading with the anchor #${anchor}`)
  }
  return problems
}

describe('README.md', () => {
  const blocks = codeBlocks(read('README.md')).filter((block) => TYPESCRIPT.has(block.language))

  it('has TypeScript blocks, each checked below', () => {
    expect(blocks.length).toBeGreaterThan(0)
  })

  it(`keeps unchecked fragments rare: at most ${MAX_UNCHECKED_BLOCKS}`, () => {
    const unchecked = blocks.filter((block) => block.marker?.startsWith('not checked'))
    expect(unchecked.length).toBeLessThanOrEqual(MAX_UNCHECKED_BLOCKS)
  })

  for (const block of blocks)
    it(`line ${block.line}: the block after <!-- ${block.marker ?? 'no comment'} -->`, () => {
      expect(problemOf(block)).toBeUndefined()
    })
})

describe('docs/writing-a-store.md', () => {
  const blocks = codeBlocks(read('docs/writing-a-store.md')).filter((block) => TYPESCRIPT.has(block.language))
  for (const block of blocks)
    it(`line ${block.line}: the block after <!-- ${block.marker ?? 'no comment'} -->`, () => {
      expect(problemOf(block)).toBeUndefined()
    })
})

describe('the entry points the README copies examples through', () => {
  it.each([...ENTRY_POINTS])('%s exists (%s)', (file) => {
    expect(existsSync(path.join(ROOT, file))).toBe(true)
  })
})

describe('links between the documentation files', () => {
  it.each(DOCUMENTS)('%s links only to files and headings that exist', (document) => {
    expect(brokenLinks(document)).toEqual([])
  })
})
