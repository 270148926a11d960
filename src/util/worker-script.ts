// Owns finding a worker thread's script: the compiled .js beside the calling module. Under vitest
// the caller runs from src/*.ts, which a worker thread cannot load, so the build output in dist/
// is used instead (npm test builds first).

import { fileURLToPath, pathToFileURL } from 'node:url'

export function compiledWorkerUrl(callerUrl: string, scriptName: string): URL {
  if (!callerUrl.endsWith('.ts')) return new URL(`./${scriptName}`, callerUrl)
  const path = fileURLToPath(new URL(`./${scriptName}`, callerUrl))
  // The last /src/ in the path is the project's source root.
  return pathToFileURL(path.replace(/\/src\/(?!.*\/src\/)/, '/dist/'))
}
