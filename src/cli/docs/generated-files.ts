// Owns the list of generated documentation files and their contents, for `npm run gen` and for
// the test that fails when the checked-in copies are stale.

import { VERSION } from '../../util/version.js'
import { loadCommandTree } from './command-tree.js'
import { completionScript, SHELLS } from './completion.js'
import { manPage } from './man-page.js'

const EXTENSIONS = { bash: 'bash', zsh: 'zsh', fish: 'fish' } as const

/** [path relative to the package root, contents] for every generated file. */
export async function generatedFiles(): Promise<Array<[string, string]>> {
  const tree = await loadCommandTree()
  return [
    ...SHELLS.map((shell): [string, string] => [
      `completions/konnect-audit.${EXTENSIONS[shell]}`,
      completionScript(shell, tree),
    ]),
    ['man/konnect-audit.1', manPage(tree, VERSION)],
  ]
}
