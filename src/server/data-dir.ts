// Owns the SQLite data directory: created 0700, and locked by one `serve` at a time through a
// pid file, so a second server on the same files fails fast with a pointer to PostgreSQL.

import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/** The SQLite database file inside the data dir. */
export const SQLITE_FILE = 'konnect-audit.db'

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError'
}

export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Lock files this process holds: a pid check cannot tell two servers of one process apart. */
const heldHere = new Set<string>()

/** Takes the data-dir lock (a stale lock from a killed server is taken over); returns its release. */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, 'serve.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      heldHere.add(path)
      return () => {
        heldHere.delete(path)
        rmSync(path, { force: true })
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number(readFileSync(path, 'utf8').trim())
      const heldByUs = holder === process.pid && heldHere.has(path)
      if (heldByUs || (Number.isInteger(holder) && holder !== process.pid && isRunning(holder))) {
        throw new DataDirLockedError(
          `another konnect-audit serve (pid ${holder}) is using ${dir}; SQLite allows one server per data dir — use --database postgres://… to run several replicas`,
        )
      }
      rmSync(path, { force: true })
    }
  }
  throw new DataDirLockedError(`cannot lock ${dir}`)
}
