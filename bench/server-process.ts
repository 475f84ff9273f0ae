/**
 * @module bench/server-process
 * Runs `opencts serve` (the compiled CLI) as a child process on 127.0.0.1, port 0, so the server has
 * its own event loop and the benchmark client does not share it. Startup and shutdown are bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url))

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** SIGTERM (graceful close), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>
}

export function startServerProcess(dataDir: string, timeoutMs = 60_000): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '' } },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (stopTimeoutMs = 30_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs)
    await exited
    clearTimeout(timer)
  }
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`opencts serve printed no URL within ${timeoutMs} ms: ${out}`))
    }, timeoutMs)
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const match = /OpenCTS listening on (http:\/\/\S+)/.exec(out)
      if (match?.[1] !== undefined) {
        clearTimeout(timer)
        resolve({ url: match[1], child, stop })
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`opencts serve exited (${code ?? signal}) before listening: ${out}`))
    })
  })
}
