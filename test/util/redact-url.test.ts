// Tests hiding credentials in URLs shown in messages (--debug lines, errors, config errors).

import { describe, expect, it } from 'vitest'
import { redactedUrl } from '../../src/util/redact-url.js'

describe('redactedUrl', () => {
  it.each([
    ['postgres://audit:s3cret@db:5432/audit', 'postgres://***@db:5432/audit'],
    ['http://user@127.0.0.1:8080/v1/keys', 'http://***@127.0.0.1:8080/v1/keys'],
    [
      'https://h/jwks.json?token=abc&kid=1&Password=p&api_key=k#x',
      'https://h/jwks.json?token=***&kid=1&Password=***&api_key=***#x',
    ],
    [
      'postgres://h/test?options=-c%20search_path%3Dka_1&sslpassword=x',
      'postgres://h/test?options=-c%20search_path%3Dka_1&sslpassword=***',
    ],
    ['https://audit.example.com/prefix', 'https://audit.example.com/prefix'],
  ])('%s → %s', (url, shown) => {
    expect(redactedUrl(url)).toBe(shown)
  })
})
