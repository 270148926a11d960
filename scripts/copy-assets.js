// `npm run build`, after tsc: copies every src/**/migrations/*.sql to the same path under dist/,
// where the compiled store adapters read them. tsc itself copies nothing but what it compiles.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const srcDir = fileURLToPath(new URL('../src/', import.meta.url))
const distDir = fileURLToPath(new URL('../dist/', import.meta.url))

const isMigration = (relativePath) => relativePath.endsWith('.sql') && basename(dirname(relativePath)) === 'migrations'

for (const relativePath of readdirSync(srcDir, { recursive: true }).filter(isMigration)) {
  const target = join(distDir, relativePath)
  mkdirSync(dirname(target), { recursive: true })
  copyFileSync(join(srcDir, relativePath), target)
}
