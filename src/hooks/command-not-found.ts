/**
 * A mistyped command (`defender-check analyse`): the closest command is named. On a terminal
 * @oclif/plugin-not-found asks "Did you mean analyze?" and runs it, with the arguments given, on
 * yes (its prompt gives up after 10 s). Without one (CI, a script, stdin closed or piped) nobody
 * can answer a prompt, and that plugin then names no command at all: here the suggestion is one
 * line on stderr and the exit code is 2, a usage error like any other.
 */
import type {Hook} from '@oclif/core'
import askAndRun from '@oclif/plugin-not-found'

/** Suggest a command only when it is this close (edits): `analyse` is 1 from `analyze`, `prob` 1 from `probe`. */
const MAX_SUGGESTION_DISTANCE = 3

const hook: Hook.CommandNotFound = async function (options) {
  // With a space as topic separator oclif joins the words it could not place into the id
  // ("analyse:x.pcap"); the commands have no topics, so the first word is the mistyped command
  // and the others are its arguments. The plugin is given them apart: on the joined id it
  // measured "analyse:fixtures/x/capture.pcap" against every id, offered `capture`, and on yes
  // started a live capture.
  const [typed, ...words] = options.id.split(':') as [string, ...string[]]
  if (process.stdin.isTTY === true && process.stderr.isTTY === true) {
    return askAndRun.call(this, {...options, id: typed, argv: [...words, ...(options.argv ?? [])]})
  }
  const visible = options.config.commands.filter((command) => !command.hidden)
  const ids = [...visible.map((command) => command.id), ...visible.flatMap((command) => command.aliases)]
  const closest = ids
    .map((id) => ({id, distance: editDistance(typed, id)}))
    .sort((a, b) => a.distance - b.distance)[0]
  const suggestion = closest !== undefined && closest.distance <= MAX_SUGGESTION_DISTANCE ? ` Did you mean "${closest.id}"?` : ''
  process.stderr.write(`defender-check: "${typed}" is not a defender-check command.${suggestion} Run "defender-check help" for the list.\n`)
  this.exit(2)
}

/** Levenshtein distance (insertions, deletions, substitutions), two rows. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

export default hook
