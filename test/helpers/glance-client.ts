/**
 * @module test/helpers/glance-client
 * Runs test/helpers/glance-client.py, the real python-glanceclient (Image API v2), against an
 * endpoint (a Glance from `startGlance`, or a proxy in front of it) and parses its JSON lines.
 *
 *   const run = await runGlanceClient({ endpoint: glance.url, ownerHeaders: glance.headers,
 *     memberHeaders: glance.memberHeaders })
 *   run.ok; run.steps.map((s) => s.step)   // create_image, update_image, upload_image, ...
 */
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from './repo-root.js'

/** The steps the script runs, in order. */
export const GLANCE_CLIENT_STEPS = [
  'create_image',
  'update_image',
  'upload_image',
  'add_tag',
  'delete_tag',
  'add_member',
  'update_member',
  'delete_member',
  'delete_image',
] as const

export type GlanceClientStepName = (typeof GLANCE_CLIENT_STEPS)[number]

/** One JSON line of the script. Fields beyond `step`/`ok` depend on the step. */
export interface GlanceClientStep {
  readonly step: GlanceClientStepName | 'done' | 'import'
  readonly ok: boolean
  /** The HTTP method and path of the step's main request (the client also sends GETs). */
  readonly method?: string
  readonly path?: string
  readonly image_id?: string | null
  /** The image name after the step (`update_image` also gives `old_name`). */
  readonly name?: string
  readonly old_name?: string
  readonly member_id?: string
  /** The project the step acted as (the member project for `update_member`). */
  readonly project_id?: string
  readonly owner?: string
  readonly visibility?: string
  readonly status?: string
  readonly size?: number
  readonly tag?: string
  readonly tags?: string[]
  readonly deleted?: boolean
  readonly error?: string
  readonly [key: string]: unknown
}

export interface GlanceClientOptions {
  /** `http://HOST:PORT`, without `/v2`. */
  readonly endpoint: string
  /** Identity headers of the image's owner project. */
  readonly ownerHeaders: Record<string, string>
  /** Identity headers of the member project (must include `X-Project-Id`). */
  readonly memberHeaders: Record<string, string>
  readonly name?: string
  readonly newName?: string
  readonly tag?: string
  /** The bytes uploaded as the image's data (text). */
  readonly data?: string
  readonly timeoutMs?: number
}

export interface GlanceClientRun {
  /** Every step and the final `done` succeeded (exit code 0). */
  readonly ok: boolean
  readonly exitCode: number | null
  readonly steps: GlanceClientStep[]
  readonly stdout: string
  readonly stderr: string
}

const PYTHON = '/usr/bin/python3'

/** Path of the Python script in the repository (not copied into build folders). */
export function glanceClientScript(): string {
  return join(repoRoot(), 'test', 'helpers', 'glance-client.py')
}

/** Runs the script with Debian's python3 (where python3-glanceclient lives); never rejects on a
 * failed step, only when the interpreter cannot run at all. */
export async function runGlanceClient(options: GlanceClientOptions): Promise<GlanceClientRun> {
  const args = [
    glanceClientScript(),
    '--endpoint',
    options.endpoint,
    '--owner-headers',
    JSON.stringify(options.ownerHeaders),
    '--member-headers',
    JSON.stringify(options.memberHeaders),
  ]
  if (options.name !== undefined) args.push('--name', options.name)
  if (options.newName !== undefined) args.push('--new-name', options.newName)
  if (options.tag !== undefined) args.push('--tag', options.tag)
  if (options.data !== undefined) args.push('--data', options.data)
  const env = { ...process.env }
  delete env.PYTHONPATH
  delete env.PYTHONHOME
  // glanceclient must not pick up an OS_* cloud config or a proxy from the environment.
  for (const key of Object.keys(env)) if (key.startsWith('OS_')) delete env[key]
  for (const key of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy']) {
    delete env[key]
  }
  env.no_proxy = '*'
  return new Promise((resolve, reject) => {
    execFile(
      PYTHON,
      args,
      { env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code === 'string') {
          reject(new Error(`${PYTHON} could not run (${error.message}): run .ci/run`))
          return
        }
        const steps = stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as GlanceClientStep)
        const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : null
        resolve({ ok: exitCode === 0, exitCode, steps, stdout, stderr })
      },
    )
  })
}
