// Owns opaque page cursors for list routes: base64url of the last id seen, and the relative
// `next` link that carries it.

import { ProblemError } from '../problem.js'

export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString('base64url')
}

/** The id a cursor continues after; a cursor we did not make is a 400 on `field`. */
export function decodeCursor(cursor: string, field: string): string {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }
    if (typeof decoded.after === 'string') return decoded.after
  } catch {
    // falls through to the 400 below
  }
  throw new ProblemError(400, 'Invalid page cursor', [
    { field, rule: 'invalid', reason: 'is not a valid cursor', source: 'query' },
  ])
}

export function pageLink(path: string, size: number, lastId: string): string {
  const query = new URLSearchParams({ 'page[size]': String(size), 'page[after]': encodeCursor(lastId) })
  return `${path}?${query.toString()}`
}
