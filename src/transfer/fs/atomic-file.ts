/**
 * @module transfer/fs/atomic-file
 * Durable, atomic file replacement: write a temporary file beside the target, fsync it, rename it
 * over the target, fsync the folder. A reader sees the old file or the whole new one; after the
 * promise resolves the new file survives power loss.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'

/** fsyncs a folder, so a rename or a new entry in it survives power loss. */
export async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** `mkdir -p dir` (absolute), then fsyncs the parent of every folder it created. */
export async function makeFolders(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true })
  if (first === undefined) return
  const top = resolve(first)
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    await syncFolder(dirname(d))
    if (d === top) return
  }
}

/** Writes `data` to a new temporary file beside `target` and fsyncs it; returns its path. */
export async function writeTemp(target: string, data: Uint8Array | string): Promise<string> {
  const temp = join(dirname(target), `.${basename(target)}.tmp-${randomBytes(6).toString('hex')}`)
  const handle = await open(temp, 'wx', 0o644)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (error) {
    await handle.close().catch(() => undefined)
    await rm(temp, { force: true }).catch(() => undefined)
    throw error
  }
  await handle.close()
  return temp
}

/** Renames `temp` over `target` and fsyncs the folder; removes `temp` if the rename fails. */
export async function commitTemp(temp: string, target: string): Promise<void> {
  try {
    await rename(temp, target)
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined)
    throw error
  }
  await syncFolder(dirname(target))
}
