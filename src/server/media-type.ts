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
    const charset = value.replace(/^"|"$/g, '')
    if (name === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      throw new ProblemError(415, `charset ${value} is not supported; send UTF-8`)
    }
  }
}

/** The quality an Accept header gives `mediaType` when it names it (RFC 9110 §12.5.1), else 0. */
export function qualityOf(accept: string | undefined, mediaType: string): number {
  let quality = 0
  for (const entry of (accept ?? '').split(',')) {
    if (mediaTypeOf(entry) !== mediaType) continue
    const q = /;\s*q\s*=\s*([0-9.]+)/i.exec(entry)?.[1]
    quality = Math.max(quality, q === undefined ? 1 : Number(q) || 0)
  }
  return quality
}
