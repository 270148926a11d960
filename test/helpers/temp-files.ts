// Writes test inputs into a fresh temporary directory per test file.

import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function tempDir(prefix = 'ka-test-'): {
  path(name: string): string
  write(name: string, data: string | Buffer): string
} {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {
    path: (name) => join(dir, name),
    write: (name, data) => {
      const path = join(dir, name)
      writeFileSync(path, data)
      return path
    },
  }
}
