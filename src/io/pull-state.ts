// Owns the files of a resumable `logs pull` (SPEC.md §9.9): FILE.part, which receives the pages
// byte for byte, and FILE.pull-state.json (mode 0600), which records the query, the next page and
// how many bytes of FILE.part that page follows. Both are written so a crash at any point resumes.

import type { FileHandle } from 'node:fs/promises'
import { open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'

/** The arguments that define a pull; a re-run resumes only when they are the same. */
export interface PullArguments {
  readonly since: string | null
  readonly start: string | null
  readonly end: string | null
  readonly type: string | null
  readonly pageSize: number
}

export interface PullState {
  readonly version: 1
  readonly arguments: PullArguments
  /** The base URL the pull started against. */
  readonly server: string
  /** The resolved query of the first page (its time window fixed when the pull began). */
  readonly query: Readonly<Record<string, string>>
  /** The path and query of the next page to fetch, relative to the server's base URL. */
  readonly next: string
  /** Length of FILE.part up to the end of the last page fetched. */
  readonly bytes: number
  readonly events: number
  readonly pages: number
}

export class PullStateError extends Error {
  override readonly name = 'PullStateError'
}

export const partPathOf = (file: string): string => `${file}.part`
export const statePathOf = (file: string): string => `${file}.pull-state.json`

function isState(value: unknown): value is PullState {
  const state = value as Partial<PullState> | null
  return (
    typeof state === 'object' &&
    state !== null &&
    state.version === 1 &&
    typeof state.arguments === 'object' &&
    typeof state.server === 'string' &&
    typeof state.query === 'object' &&
    typeof state.next === 'string' &&
    Number.isSafeInteger(state.bytes) &&
    Number.isSafeInteger(state.events) &&
    Number.isSafeInteger(state.pages)
  )
}

/** The saved state of an interrupted pull of `file`, or null when there is none. */
export async function readPullState(file: string): Promise<PullState | null> {
  let text: string
  try {
    text = await readFile(statePathOf(file), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = null
  }
  if (!isState(value)) throw new PullStateError(`${statePathOf(file)} is not a pull state this version wrote`)
  return value
}

/** Replaces the state in one rename, so a crash leaves the old state or the new one, never half. */
export async function writePullState(file: string, state: PullState): Promise<void> {
  const path = statePathOf(file)
  const temporary = `${path}.tmp`
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
  await rename(temporary, path)
}

export async function removePullState(file: string): Promise<void> {
  await rm(statePathOf(file), { force: true })
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

/** FILE.part, opened for appending pages; `commit` moves it to FILE once everything is in. */
export class PartFile {
  private constructor(
    private readonly handle: FileHandle,
    private readonly file: string,
    private length: number,
  ) {}

  /**
   * Opens FILE.part: empty for a new pull, or cut back to `resumeAtBytes` (the end of the last page
   * the state recorded; a crash may have written part of a later page). Throws PullStateError when
   * the part file is missing or shorter than the state says.
   */
  static async open(file: string, resumeAtBytes: number | null): Promise<PartFile> {
    const path = partPathOf(file)
    if (resumeAtBytes === null) {
      return new PartFile(await open(path, 'w', 0o600), file, 0)
    }
    const size = (await exists(path)) ? (await stat(path)).size : -1
    if (size < resumeAtBytes) {
      throw new PullStateError(
        `${path} is ${size < 0 ? 'missing' : `shorter (${size} bytes) than the ${resumeAtBytes} bytes its state records`}`,
      )
    }
    await truncate(path, resumeAtBytes)
    return new PartFile(await open(path, 'a', 0o600), file, resumeAtBytes)
  }

  get bytes(): number {
    return this.length
  }

  /** Appends a page and flushes it to disk, so a state written afterwards never runs ahead of the data. */
  async append(page: Buffer): Promise<void> {
    if (page.length === 0) return
    await this.handle.write(page)
    await this.handle.sync()
    this.length += page.length
  }

  /** Flushes, closes and renames FILE.part to FILE (replacing it), then flushes the directory entry. */
  async commit(): Promise<void> {
    await this.handle.sync()
    await this.handle.close()
    await rename(partPathOf(this.file), this.file)
    await syncDirectory(dirname(this.file))
  }

  async close(): Promise<void> {
    await this.handle.close()
  }
}

async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | null = null
  try {
    handle = await open(path, 'r')
    await handle.sync()
  } catch {
    // Some platforms cannot fsync a directory; the rename itself has happened.
  } finally {
    await handle?.close()
  }
}
