// A throwaway self-signed certificate (P-256, two days) made with openssl, for TLS tests.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { tempDir } from './temp-files.js'

export interface SelfSigned {
  readonly certPath: string
  readonly keyPath: string
  readonly cert: string
  readonly key: string
}

/** `subject` like `/O=Org/CN=name`, `altName` like `DNS:name` or `IP:127.0.0.1`. */
export function selfSignedCertificate(subject: string, altName: string): SelfSigned {
  const dir = tempDir('ka-cert-')
  const certPath = dir.path('cert.pem')
  const keyPath = dir.path('key.pem')
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'].concat([
      '-subj',
      subject,
      '-addext',
      `subjectAltName=${altName}`,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ]),
    { stdio: 'ignore' },
  )
  return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') }
}
