/**
 * @module cli/cli-io
 * Everything a command touches outside itself, passed in by `main.ts` (the only CLI file that reads
 * `process`), so commands run the same in tests.
 */

export interface CliIo {
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadableStream
  /** Environment variables (`OPENCTS_*`). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Whether stderr is a terminal (progress lines are drawn only then). */
  readonly stderrIsTty: boolean
  /** Epoch milliseconds (relative `--from 15m` and progress rates). */
  readonly now: () => number
  /** Resolves with the signal name on the first SIGINT or SIGTERM (used by `serve`). */
  readonly untilShutdown: () => Promise<string>
}
