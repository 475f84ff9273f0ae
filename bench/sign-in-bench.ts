/**
 * @module bench/sign-in-bench
 * What a password sign-in costs (docs/auth.md): one scrypt hash at the default cost in this process
 * (the floor of a sign-in), `POST /v3/auth/tokens` one at a time, then `concurrency` sign-ins at once
 * while `GET /health` is polled without pause, against health polled alone: the event loop must keep
 * answering while the hashes run on the thread pool.
 */
import { DEFAULT_SCRYPT_COST, hashPassword } from '../src/auth/password-hash.js'
import { passwordSignInBody } from '../src/auth/credentials-file.js'
import { latency, type Latency } from './percentiles.js'
import { BENCH_ADMIN } from './server-process.js'

export interface SignInResult {
  /** One `hashPassword` at DEFAULT_SCRYPT_COST, in the benchmark's process. */
  readonly hash: Latency
  readonly sequential: Latency
  readonly concurrent: Latency
  readonly concurrency: number
  readonly healthIdle: Latency
  readonly healthDuringSignIns: Latency
  readonly samples: number
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = performance.now()
  await fn()
  return performance.now() - started
}

async function signIn(url: string): Promise<void> {
  const response = await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(passwordSignInBody(BENCH_ADMIN)),
    signal: AbortSignal.timeout(60_000),
  })
  await response.text()
  if (response.status !== 201) throw new Error(`sign-in answered ${response.status}`)
}

async function health(url: string): Promise<void> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(60_000) })
  await response.text()
}

/** Polls health one request at a time until `until` settles; the latencies in ms. */
async function pollHealth(url: string, until: Promise<unknown>): Promise<number[]> {
  let done = false
  void until.finally(() => (done = true))
  const sample: number[] = []
  while (!done) sample.push(await timed(() => health(url)))
  return sample
}

export async function benchSignIn(
  url: string,
  samples: number,
  concurrency: number,
): Promise<SignInResult> {
  const hash: number[] = []
  for (let i = 0; i < Math.min(samples, 10); i++)
    hash.push(await timed(() => hashPassword(BENCH_ADMIN.password, DEFAULT_SCRYPT_COST).then()))
  const sequential: number[] = []
  for (let i = 0; i < samples; i++) sequential.push(await timed(() => signIn(url)))
  const idle = await pollHealth(url, new Promise((resolve) => setTimeout(resolve, 2000)))
  const concurrent: number[] = []
  const during: number[] = []
  for (let round = 0; round * concurrency < samples; round++) {
    const burst = Promise.all(Array.from({ length: concurrency }, () => timed(() => signIn(url))))
    during.push(...(await pollHealth(url, burst)))
    concurrent.push(...(await burst))
  }
  return {
    hash: latency(hash),
    sequential: latency(sequential),
    concurrent: latency(concurrent),
    concurrency,
    healthIdle: latency(idle),
    healthDuringSignIns: latency(during),
    samples,
  }
}
