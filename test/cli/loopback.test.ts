// Tests which server URLs count as this machine, where plain http (and a token over it) is fine.

import { describe, expect, it } from 'vitest'
import { isLoopbackUrl } from '../../src/cli/loopback.js'

describe('isLoopbackUrl', () => {
  it.each([
    ['http://localhost:8080', true],
    ['http://127.0.0.1:8080', true],
    ['http://127.9.8.7', true],
    ['http://[::1]:8080', true],
    ['http://[::ffff:127.0.0.1]:8080', true],
    ['http://[::ffff:7f00:1]', true],
    ['http://[::ffff:10.0.0.1]', false],
    ['http://128.0.0.1', false],
    ['http://audit.example.com', false],
    ['http://127.0.0.1.example.com', false],
  ])('%s → %s', (url, loopback) => {
    expect(isLoopbackUrl(new URL(url))).toBe(loopback)
  })
})
