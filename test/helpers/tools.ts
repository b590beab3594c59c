/**
 * System tools some tests need (Wireshark's tshark as the reference dissector, tcpdump for live
 * capture, chromium for the HTML report). A missing one fails the test that needs it with one
 * line naming the tool and the command that installs it: nothing is skipped silently.
 * `npm run test:fresh` (scripts/install-test-deps.sh) installs them on Debian 12.
 */
import {spawnSync} from 'node:child_process'

/** Debian 12 package and the argument that makes the tool print its version and exit 0. */
const TOOLS: Record<string, {pkg: string; versionArg: string}> = {
  tshark: {pkg: 'tshark', versionArg: '--version'},
  tcpdump: {pkg: 'tcpdump', versionArg: '--version'},
  chromium: {pkg: 'chromium', versionArg: '--version'},
  openssl: {pkg: 'openssl', versionArg: 'version'},
  prometheus: {pkg: 'prometheus', versionArg: '--version'},
  promtool: {pkg: 'prometheus', versionArg: '--version'},
}

const checked = new Map<string, string | undefined>()

/** Why `tool` cannot be used (one line, with the install command), or undefined when it runs. */
export function toolMissing(tool: keyof typeof TOOLS & string): string | undefined {
  if (!checked.has(tool)) {
    const {pkg, versionArg} = TOOLS[tool]!
    const run = spawnSync(tool, [versionArg], {stdio: 'ignore'})
    checked.set(
      tool,
      run.error || run.status !== 0
        ? `${tool} is required by this test and did not run (${run.error?.message ?? `exit ${run.status}`}): ` +
            `install it with 'apt-get install -y ${pkg}', or run 'npm run test:fresh', which installs every tool the tests need`
        : undefined,
    )
  }
  return checked.get(tool)
}

/** Throws the one-line reason when `tool` does not run (call it where the test needs the tool). */
export function requireTool(tool: keyof typeof TOOLS & string): void {
  const missing = toolMissing(tool)
  if (missing) throw new Error(missing)
}
