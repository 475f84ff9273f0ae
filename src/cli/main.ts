#!/usr/bin/env node
/**
 * @module cli/main
 * The `opencts` executable: binds the process (argv, standard streams, environment, signals) to
 * `runCli` and exits with its status once the output is flushed. A second SIGINT/SIGTERM during a
 * graceful stop exits at once with status 1.
 */
import { runCli } from './run-cli.js'

function untilShutdown(): Promise<string> {
  return new Promise((resolve) => {
    let received = 0
    const onSignal = (signal: NodeJS.Signals): void => {
      received++
      if (received === 1) resolve(signal)
      else process.exit(1)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

const status = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  stderrIsTty: process.stderr.isTTY === true,
  now: () => Date.now(),
  untilShutdown,
})
// Exit only after the output is written: pipes may be asynchronous.
process.stdout.write('', () => process.stderr.write('', () => process.exit(status)))
