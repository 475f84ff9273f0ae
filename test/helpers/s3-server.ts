/**
 * @module test/helpers/s3-server
 * A real S3-compatible server on loopback for tests: s3rver in a child process, on a random port,
 * with its data in a fresh temporary folder. It accepts the access key id `S3RVER`; SigV4
 * signatures are not verified (s3rver only checks that the access key id exists), so an unknown
 * access key id is the way to get a 403.
 *
 *   const s3 = await startS3Server(t)   // stopped by t.after; or call s3.stop() yourself
 *   new S3ObjectSink(s3.settings)
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ObjectStoreSettings } from '../../src/transfer/object-sink.js'
import { repoRoot } from './repo-root.js'

export interface S3Server {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string
  readonly region: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  /** Settings of an S3 object sink on this server (path-style addressing). */
  readonly settings: Extract<ObjectStoreSettings, { kind: 's3' }>
  /** Kills the server and removes its data folder; safe to call twice. */
  stop(): Promise<void>
}

/** Anything with `after(fn)`: a `node:test` TestContext or SuiteContext. */
export interface AfterHook {
  after(fn: () => Promise<void>): void
}

const START_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 5_000
const LISTENING = /listening on 127\.0\.0\.1:(\d+)/

/**
 * Starts s3rver and resolves once it listens. Rejects (after killing the child) if it exits first
 * or does not listen within 15 s, with its stderr in the message. With `t`, stops it in `t.after`.
 */
export async function startS3Server(t?: AfterHook): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'opencts-s3rver-'))
  const bin = join(repoRoot(), 'node_modules', 's3rver', 'bin', 's3rver.js')
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its
  // legacy provider.
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--silent'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
        await exited
        clearTimeout(timer)
      }
      await rm(dir, { recursive: true, force: true })
    })())
  t?.after(stop)

  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192) // the end says why it failed
  })
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = ''
      const timer = setTimeout(
        () => reject(new Error(`s3rver did not listen within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      )
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk
        const match = LISTENING.exec(stdout)
        if (match !== null) {
          clearTimeout(timer)
          resolve(Number(match[1]))
        }
      })
      child.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`s3rver exited (${signal ?? `code ${code}`}) before listening`))
      })
    })
    const endpoint = `http://127.0.0.1:${port}`
    const keys = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
    return {
      endpoint,
      region: 'us-east-1',
      ...keys,
      settings: { kind: 's3', endpoint, region: 'us-east-1', ...keys, forcePathStyle: true },
      stop,
    }
  } catch (error) {
    await stop()
    const detail = stderr.trim() === '' ? '' : `; stderr:\n${stderr.trim()}`
    throw new Error(`${error instanceof Error ? error.message : String(error)}${detail}`, {
      cause: error,
    })
  }
}
