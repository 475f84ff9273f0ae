/**
 * Test helper: Debian's `chromium` driven by playwright-core (no browser download). CI installs the
 * package (`.ci/run`); `CHROMIUM_PATH` points elsewhere when needed. `chromiumMissing()` says why the
 * browser tests cannot run, or null.
 */
import { accessSync, constants } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Why Chromium cannot be launched here, or null when it can. */
export function chromiumMissing(): string | null {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK)
    return null
  } catch {
    return `Chromium not installed at ${CHROMIUM_PATH} (apt-get install chromium; CI installs it in .ci/run)`
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_FLAGS,
    headless: true,
    timeout: 60_000,
  })
}
