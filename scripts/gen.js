// `npm run gen`: writes the completion scripts and the man page generated from the command tree
// (the build runs first). A test fails when the checked-in files differ from what this writes.
import { generatedFiles } from '../dist/cli/docs/generated-files.js'

for (const [path, text] of await generatedFiles()) {
  const { writeFileSync } = await import('node:fs')
  writeFileSync(new URL(`../${path}`, import.meta.url), text)
  process.stdout.write(`wrote ${path}\n`)
}
