/**
 * Test helper: several `opencts serve` child processes on one store (a PostgreSQL database from
 * `createTestDatabase`), sharing one master key file and one object folder, each with its own
 * data directory and a free port; and `opencts` commands run to completion as child processes.
 * Every wait is bounded.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { loadOrCreateMasterKey } from '../../src/auth/index.js'
import {
  ADMIN_ENV,
  MAIN,
  adminProject,
  serve,
  signedFetch,
  type ServerProcess,
} from './server-process.js'

export interface CommandRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `opencts ARGS` to completion (killed after `timeoutMs`), with only PATH and `env`. */
export function runOpencts(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 60_000,
): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`opencts ${args.join(' ')} did not finish in time: ${stdout} ${stderr}`))
    }, timeoutMs)
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.on('exit', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

export interface Node extends ServerProcess {
  readonly name: string
  readonly dataDir: string
}

export interface Cluster {
  readonly storeUrl: string
  readonly objectsDir: string
  readonly env: Readonly<Record<string, string>>
  /** Starts a node (its own data directory `root/NAME`) on the shared store. */
  start(name: string): Promise<Node>
}

/**
 * The shared settings of the nodes of `storeUrl` under `root`: the master key file is created
 * here once, before any node starts (nodes share it; none must create its own).
 */
export function cluster(
  root: string,
  storeUrl: string,
  extraEnv: Readonly<Record<string, string>> = {},
): Cluster {
  mkdirSync(root, { recursive: true })
  const masterKeyFile = join(root, 'master.key')
  loadOrCreateMasterKey(masterKeyFile)
  const objectsDir = join(root, 'objects')
  const env = {
    ...ADMIN_ENV,
    OPENCTS_STORE: storeUrl,
    OPENCTS_STORE_POOL_SIZE: '4',
    OPENCTS_MASTER_KEY_FILE: masterKeyFile,
    OPENCTS_OBJECTS_DIR: objectsDir,
    ...extraEnv,
  }
  return {
    storeUrl,
    objectsDir,
    env,
    async start(name) {
      const dataDir = join(root, name)
      const server = await serve(dataDir, env)
      return { ...server, name, dataDir }
    },
  }
}

/** The administrator's project, from the credentials file of the node that created it. */
export function clusterProject(nodes: readonly Node[]): string {
  const creators = nodes.filter((n) => existsSync(join(n.dataDir, 'credentials')))
  assert.equal(creators.length, 1, 'exactly one node created the administrator')
  return adminProject((creators[0] as Node).dataDir)
}

export interface Health {
  readonly status: number
  readonly leases: readonly string[]
  readonly body: Record<string, unknown>
}

/** GET /health of a node. */
export async function health(node: Node): Promise<Health> {
  const response = await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(10_000) })
  const body = (await response.json()) as Record<string, unknown>
  return { status: response.status, leases: (body.leases as string[] | undefined) ?? [], body }
}

/** The node holding `lease` now (asserts exactly one does), within `ms`. */
export async function holderOf(nodes: readonly Node[], lease: string, ms = 10_000): Promise<Node> {
  const deadline = Date.now() + ms
  for (let round = 0; ; round++) {
    const holders: Node[] = []
    for (const node of nodes) if ((await health(node)).leases.includes(lease)) holders.push(node)
    assert.ok(holders.length <= 1, `${lease} is held by ${holders.map((n) => n.name).join(', ')}`)
    if (holders[0] !== undefined) return holders[0]
    assert.ok(Date.now() < deadline && round < 10_000, `no node holds ${lease} within ${ms} ms`)
    await sleep(50)
  }
}

/** POSTs JSON with the administrator's signature; returns status and parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  method = 'POST',
): Promise<{ status: number; body: any }> {
  const response = await signedFetch(url, { method, body: JSON.stringify(body) })
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

/** GETs JSON with the administrator's signature. */
export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const response = await signedFetch(url)
  const text = await response.text()
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
}

/** Every trace id of the project's traces since `from` (paged, at most 500 pages). */
export async function listedIds(
  node: Node,
  project: string,
  from: number,
  filter = '',
): Promise<string[]> {
  const ids: string[] = []
  const to = Date.now() + 60_000
  let next: string | null = null
  for (let page = 0; page < 500; page++) {
    const query = `limit=200&from=${from}&to=${to}${filter}${next === null ? '' : `&next=${next}`}`
    const { status, body } = await getJson(`${node.url}/v3/${project}/traces?${query}`)
    assert.equal(status, 200, JSON.stringify(body))
    for (const t of body.traces as { trace_id: string }[]) ids.push(t.trace_id)
    next = body.meta_data.marker as string | null
    if (next === null) return ids
  }
  throw new Error('more than 500 pages')
}
