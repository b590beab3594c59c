/**
 * deploy/ is checked, not just written (issue 20): the Kubernetes manifests against the
 * Kubernetes API types, the Prometheus rules with promtool.
 *
 * Manifests: each YAML document becomes a TypeScript object literal typed with its kind's type
 * from kubernetes-types (generated from the Kubernetes OpenAPI spec, v1.30) and tsc checks it:
 * an unknown field (excess property check), a missing required one or a wrong type fails. Chosen
 * over a JSON schema because no maintained Kubernetes JSON schema is published on npm, while
 * kubernetes-types is, and tsc is already here; what types cannot say (enum values written as
 * strings, e.g. imagePullPolicy) is not checked.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {parseAllDocuments} from 'yaml'
import Watch from '../../src/commands/watch.js'
import {ROOT} from '../helpers/paths.js'
import {requireTool} from '../helpers/tools.js'

const DEPLOY = join(ROOT, 'deploy')
const TYPES = join(ROOT, 'node_modules', 'kubernetes-types')
/** kind → the kubernetes-types module and type name it is checked against. */
const KINDS: Record<string, {module: string; type: string}> = {
  DaemonSet: {module: 'apps/v1', type: 'DaemonSet'},
  ConfigMap: {module: 'core/v1', type: 'ConfigMap'},
}

const work = mkdtempSync(join(tmpdir(), 'dc8-deploy-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

function documents(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`)
    return doc.toJS() as unknown
  })
}

/** tsc's verdict on `objects` typed as their kinds (exit status and its diagnostics). */
function typeCheck(name: string, objects: unknown[]): {status: number | null; output: string} {
  const lines: string[] = []
  objects.forEach((object, i) => {
    const kind = (object as {kind?: string}).kind ?? '(no kind)'
    const entry = KINDS[kind]
    if (!entry) throw new Error(`${name}: no type known for kind ${kind}`)
    lines.push(`import type {${entry.type} as T${i}} from '${join(TYPES, entry.module)}.js'`)
    lines.push(`export const doc${i}: T${i} = ${JSON.stringify(object, null, 2)}`)
  })
  const file = join(work, `${name}.ts`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--skipLibCheck', '--exactOptionalPropertyTypes', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', file], {encoding: 'utf8'})
  return {status: tsc.status, output: `${tsc.stdout}${tsc.stderr}`}
}

describe('deploy/kubernetes', () => {
  const manifests = ['configmap.yaml', 'daemonset.yaml'].map((f) => join(DEPLOY, 'kubernetes', f))

  it('every manifest is a valid object of its Kubernetes API type (kubernetes-types 1.30, tsc)', () => {
    const objects = manifests.flatMap(documents)
    expect(objects.map((o) => (o as {kind: string}).kind)).toEqual(['ConfigMap', 'DaemonSet'])
    const result = typeCheck('manifests', objects)
    expect(result.output).toBe('')
    expect(result.status).toBe(0)
  }, 180_000)

  it('the check can fail: a misspelt field and a wrong type are refused', () => {
    const daemonSet = documents(join(DEPLOY, 'kubernetes', 'daemonset.yaml'))[0] as {spec: {template: {spec: Record<string, unknown>}}}
    const broken = structuredClone(daemonSet)
    broken.spec.template.spec.contianers = broken.spec.template.spec.containers
    delete broken.spec.template.spec.containers
    const wrongType = structuredClone(daemonSet) as unknown as {spec: {template: {spec: {containers: Array<{ports: Array<{containerPort: unknown}>}>}}}}
    wrongType.spec.template.spec.containers[0]!.ports[0]!.containerPort = '9464'
    const result = typeCheck('broken', [broken, wrongType])
    expect(result.status).not.toBe(0)
    expect(result.output).toMatch(/'"contianers"' does not exist in type 'PodSpec'/)
    expect(result.output).toMatch(/Type 'string' is not assignable to type 'number'/)
  }, 180_000)

  it('the DaemonSet mounts the Defender certificate secret where --defender-certs reads it, and is scraped on the port it listens on', () => {
    const ds = documents(join(DEPLOY, 'kubernetes', 'daemonset.yaml'))[0] as {
      spec: {template: {metadata: {annotations: Record<string, string>}; spec: {containers: Array<{args: string[]; ports: Array<{containerPort: number}>; volumeMounts: Array<{name: string; mountPath: string}>}>; volumes: Array<{name: string; secret?: {secretName: string; items: Array<{key: string}>}}>}}}
    }
    const pod = ds.spec.template
    const container = pod.spec.containers[0]!
    const args = container.args
    expect(args[0]).toBe('watch')
    // Every flag the manifest passes is one watch takes.
    for (const arg of args.filter((a) => a.startsWith('--'))) expect(Object.keys(Watch.flags)).toContain(arg.slice(2))
    const certsDir = args[args.indexOf('--defender-certs') + 1]
    const mount = container.volumeMounts.find((m) => m.mountPath === certsDir)!
    const volume = pod.spec.volumes.find((v) => v.name === mount.name)!
    expect(volume.secret?.items.map((i) => i.key).sort()).toEqual(['defender-ca.pem', 'defender-client-cert.pem', 'defender-client-key.pem', 'service-parameter'])
    const listenPort = Number(args[args.indexOf('--listen') + 1]!.split(':').at(-1))
    expect(pod.metadata.annotations).toMatchObject({'prometheus.io/scrape': 'true', 'prometheus.io/port': String(listenPort), 'prometheus.io/path': '/metrics'})
    expect(container.ports[0]!.containerPort).toBe(listenPort)
  })
})

describe('deploy/prometheus', () => {
  const rules = join(DEPLOY, 'prometheus', 'defender-check-rules.yml')

  it('promtool check rules accepts the alerting rules', () => {
    requireTool('promtool')
    const check = spawnSync('promtool', ['check', 'rules', rules], {encoding: 'utf8'})
    expect(check.stdout + check.stderr).toMatch(/SUCCESS: 4 rules found/)
    expect(check.status).toBe(0)
  })

  it('promtool test rules: each alert fires on the series that should fire it, and only there', () => {
    requireTool('promtool')
    const test = spawnSync('promtool', ['test', 'rules', 'defender-check-rules.test.yml'], {cwd: join(DEPLOY, 'prometheus'), encoding: 'utf8'})
    expect(test.stdout + test.stderr).toMatch(/SUCCESS/)
    expect(test.status).toBe(0)
  })

  it('the rules name metrics watch exports', () => {
    const exported = readFileSync(join(ROOT, 'src', 'probe', 'watch', 'metrics.ts'), 'utf8')
    const used = [...readFileSync(rules, 'utf8').matchAll(/\b(defender_check_[a-z_]+)/g)].map((m) => m[1]!)
    expect(used.length).toBeGreaterThan(0)
    for (const name of new Set(used)) expect(exported).toContain(`'${name}'`)
  })
})
