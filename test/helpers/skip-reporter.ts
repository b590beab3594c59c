/**
 * Prints, after vitest's own summary, one line per test file and reason for the tests skipped
 * with a note (ctx.skip(note), as test/helpers/skip.ts does when a corpus is absent): vitest's
 * default reporter counts skipped tests but does not say why.
 */
import type {Reporter, TestModule} from 'vitest/node'

export default class SkipNotesReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const lines: string[] = []
    for (const module of modules) {
      const counts = new Map<string, number>()
      for (const test of module.children.allTests()) {
        const result = test.result()
        if (result.state === 'skipped' && result.note) counts.set(result.note, (counts.get(result.note) ?? 0) + 1)
      }
      for (const [note, n] of counts) lines.push(`SKIPPED ${module.relativeModuleId} (${n} ${n === 1 ? 'test' : 'tests'}): ${note}`)
    }
    if (lines.length > 0) process.stdout.write(`\n${lines.join('\n')}\n`)
  }
}
