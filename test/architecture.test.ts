/**
 * The pipeline's shape, enforced: data flows down once (DESIGN.md, "Pipeline"), so an import may
 * only reach a layer below its own or stay in its layer, and no import circle exists between
 * files. Read from the import lines of src/ (static `import`/`export … from` and `import()`).
 *
 *   shared (src/*.ts)  <  capture  <  packet  <  stream, keys  <  protocols  <  model
 *   <  checks  <  analysis (facts assembly and the drivers)  <  report  <  probe, shards  <  cli, hooks
 *   <  commands, and index.ts (the package's library entry, which re-exports from all of them)
 */
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ROOT} from './helpers/paths.js'

const SRC = join(ROOT, 'src')

const RANK: Record<string, number> = {
  shared: 0,
  capture: 1,
  packet: 2,
  stream: 3,
  keys: 3,
  protocols: 4,
  model: 5,
  checks: 6,
  analysis: 7,
  report: 8,
  probe: 9,
  shards: 9,
  cli: 10,
  hooks: 10,
  commands: 11,
  api: 12,
}

/** The layer of a file, by its folder under src/. */
function layerOf(file: string): string {
  const parts = relative(SRC, file).split('/')
  if (parts.length === 1) return parts[0] === 'index.ts' ? 'api' : 'shared'
  return parts[0]!
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g

/** file → the src files it imports (relative specifiers resolved, `.js` read as `.ts`). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    const targets: string[] = []
    for (const match of text.matchAll(IMPORT)) {
      const spec = (match[1] ?? match[2])!
      targets.push(resolve(dirname(file), spec).replace(/\.js$/, '.ts'))
    }
    graph.set(file, targets)
  }
  return graph
}

/** Strongly connected components of more than one file (or a file importing itself): the circles. */
function circles(graph: Map<string, string[]>): string[][] {
  let index = 0
  const indexOf = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (node: string): void => {
    indexOf.set(node, index)
    low.set(node, index++)
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue
      if (!indexOf.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indexOf.get(next)!))
    }
    if (low.get(node) === indexOf.get(node)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(relative(SRC, member))
      } while (member !== node)
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort())
    }
  }
  for (const node of graph.keys()) if (!indexOf.has(node)) visit(node)
  return found
}

describe('the import graph of src/', () => {
  const graph = importGraph()

  it('reads every source file and its imports (the parser is not blind)', () => {
    expect(graph.size).toBeGreaterThan(100)
    const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0)
    expect(edges).toBeGreaterThan(300)
    for (const targets of graph.values()) for (const target of targets) expect(graph.has(target), `import of a file that does not exist: ${target}`).toBe(true)
  })

  it('has no import circle', () => {
    expect(circles(graph)).toEqual([])
  })

  it('imports only downward: every folder is a layer, and no layer imports one above it', () => {
    const upward: string[] = []
    for (const [file, targets] of graph) {
      const from = layerOf(file)
      expect(RANK[from], `${relative(SRC, file)}: folder ${from} has no layer in this test`).toBeDefined()
      for (const target of targets) {
        const to = layerOf(target)
        if (RANK[to]! > RANK[from]!) upward.push(`${relative(SRC, file)} (${from}) imports ${relative(SRC, target)} (${to})`)
      }
    }
    expect(upward).toEqual([])
  })

  it('the circle detector finds a circle when there is one', () => {
    const a = join(SRC, 'a.ts')
    const b = join(SRC, 'b.ts')
    expect(circles(new Map([[a, [b]], [b, [a]]]))).toEqual([['a.ts', 'b.ts']])
  })
})
