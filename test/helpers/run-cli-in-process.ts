/**
 * Test helper: runs `opencts` in-process through `runCli` with captured output, so command tests
 * need no child process. Everything of `CliIo` can be overridden.
 */
import { Readable, Writable } from 'node:stream'
import type { CliIo } from '../../src/cli/cli-io.js'
import { runCli } from '../../src/cli/run-cli.js'

export interface CliRun {
  readonly status: number
  readonly stdout: string
  readonly stderr: string
}

export interface CliRunOptions {
  /** Text fed to stdin (default: none). */
  readonly stdin?: string
  readonly env?: Readonly<Record<string, string>>
  /** The command's clock (default: the real one). */
  readonly now?: () => number
  readonly stderrIsTty?: boolean
  /** Resolves (with a signal name) to stop a long-running command; default: never. */
  readonly untilShutdown?: () => Promise<string>
  /** Receives stdout as it is written (for commands that print before they end). */
  readonly onStdout?: (text: string) => void
}

function capture(onText?: (text: string) => void): { stream: Writable; text: () => string } {
  const parts: string[] = []
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      parts.push(chunk.toString())
      onText?.(chunk.toString())
      done()
    },
  })
  return { stream, text: () => parts.join('') }
}

/** Runs `opencts ...argv` and resolves with its exit status and output. */
export async function runCliInProcess(
  argv: readonly string[],
  options: CliRunOptions = {},
): Promise<CliRun> {
  const out = capture(options.onStdout)
  const err = capture()
  const io: CliIo = {
    stdout: out.stream,
    stderr: err.stream,
    stdin: Readable.from(
      options.stdin === undefined || options.stdin === '' ? [] : [options.stdin],
    ),
    env: { ...options.env },
    stderrIsTty: options.stderrIsTty ?? false,
    now: options.now ?? (() => Date.now()),
    untilShutdown: options.untilShutdown ?? (() => new Promise(() => undefined)),
  }
  const status = await runCli(argv, io)
  return { status, stdout: out.text(), stderr: err.text() }
}
