// Owns reading a secret (a token, an Authorization header value): whole stdin, trimmed, or a
// masked prompt on a terminal. Secrets never come from argv and are never echoed (SPEC.md §9.2).

import { Writable } from 'node:stream'
import type { IOStreams } from './streams.js'

export async function readStdinText(io: IOStreams): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString('utf8').trim()
}

/** Whether a prompt may be shown: stdin and stderr are terminals and --no-input is off. */
export function canPrompt(io: IOStreams, inputAllowed: boolean): boolean {
  return inputAllowed && io.stdinIsTTY && io.stderrIsTTY
}

/** stderr for a prompt: Inquirer ends its output when done, and stderr must outlive the prompt. */
export function promptOutput(stderr: Writable & { readonly isTTY?: boolean; readonly columns?: number }): Writable {
  const output = new Writable({ write: (chunk, encoding, done) => stderr.write(chunk, encoding, done) })
  return Object.assign(output, { isTTY: stderr.isTTY === true, columns: stderr.columns })
}

export async function promptSecret(io: IOStreams, message: string): Promise<string> {
  const { password } = await import('@inquirer/prompts')
  const answer = await password(
    { message, mask: '*' },
    { input: io.stdin as NodeJS.ReadableStream, output: promptOutput(io.errStream) as NodeJS.WritableStream },
  )
  return answer.trim()
}
