// Owns reading media types off request headers (SPEC.md §5.1, §5.9): type names compare without
// regard to case, and a body may declare no charset or UTF-8 only.

import { ProblemError } from './problem.js'

/** The lowercase `type/subtype` of a Content-Type value, without parameters. */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/** Throws 415 when the Content-Type names a charset other than UTF-8 (SPEC.md §5.1: UTF-8 only). */
export function requireUtf8Charset(contentType: string | undefined): void {
  for (const parameter of (contentType ?? '').split(';').slice(1)) {
    const [name = '', value = ''] = parameter.split('=').map((part) => part.trim().toLowerCase())
    if (name === 'charset' && value.replace(/^"|"$/g, '') !== 'utf-8') {
      throw new ProblemError(415, `charset ${value} is not supported; send UTF-8`)
    }
  }
}

/** True if the Accept header lists `mediaType` (case-insensitive). */
export function accepts(accept: string | undefined, mediaType: string): boolean {
  return (accept ?? '').split(',').some((entry) => mediaTypeOf(entry) === mediaType)
}
