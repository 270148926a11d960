// Shared benchmark plumbing: generating signed logs, running the built CLI while sampling its
// peak RSS, and measuring OpenSSL's own Ed25519 verify rate in the same run.

import { execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signJsonLine } from '../src/core/canonical-json.js'
import { renderCefLine } from '../src/core/cef.js'
import type { GatewayAccessEvent } from '../src/core/events.js'
import { jwkOf, writeJwks } from '../src/core/jwks.js'
import { createSigner, generatePrivateKey, rawPublicKeyOf } from '../src/core/signing.js'
import { parseTraceId } from '../src/util/u64.js'
import { gatewayAccessEvent } from '../test/helpers/events.js'

export const BIN = new URL('../bin/konnect-audit.js', import.meta.url).pathname

export function benchDir(): string {
  return mkdtempSync(join(tmpdir(), 'ka-bench-'))
}

/** A realistic gateway_access event of about 600 bytes as a JSON line. */
export function sampleEvent(i: number): GatewayAccessEvent {
  return gatewayAccessEvent({
    severity: 1,
    status: 201,
    query: `{"page":"${i}","q":"some search text"}`,
    request: `/api/v1/services/${i}/routes`,
    rt: 1795684443309 + i,
    src: '2001:db8::17',
    trace_id: parseTraceId(String(9007199254740993n + BigInt(i))),
    user_agent: 'edge-gw/3.9 (zone=eu-1) Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
  })
}

/** Writes `count` lines (two JSON to one CEF), signed by a fresh key, and its JWKS. */
export async function writeSignedLog(dir: string, count: number): Promise<{ log: string; jwks: string }> {
  const key = generatePrivateKey()
  const signer = createSigner(key)
  const jwks = join(dir, 'jwks.json')
  writeFileSync(jwks, writeJwks([jwkOf(rawPublicKeyOf(key), 'active')]))
  const log = join(dir, `signed-${count}.log`)
  const out = createWriteStream(log)
  for (let i = 0; i < count; i++) {
    const event = sampleEvent(i)
    const line = i % 3 === 2 ? renderCefLine(event, signer) : signJsonLine(event, signer)
    if (!out.write(`${line}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve) => out.end(resolve))
  return { log, jwks }
}

/**
 * Writes about `bytes` of JSON lines with distinct random signatures (they verify as invalid
 * but cost a full verification each), cheaply, for the memory test.
 */
export async function writeUnsignedBulk(dir: string, bytes: number): Promise<string> {
  const path = join(dir, 'bulk.log')
  const out = createWriteStream(path)
  const template = signJsonLine(sampleEvent(0), createSigner(generatePrivateKey())).slice(0, -88)
  let written = 0
  while (written < bytes) {
    const block = Array.from({ length: 1000 }, () => `${template}${randomBytes(64).toString('base64url')}"}\n`).join('')
    written += block.length
    if (!out.write(block)) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve) => out.end(resolve))
  return path
}

export interface ProcessRun {
  readonly seconds: number
  readonly exitCode: number | null
  readonly peakRssMiB: number
  readonly stdout: string
}

/** Runs `node args…`, sampling VmHWM (peak RSS) from /proc while it runs. */
export function runNode(args: readonly string[]): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
    let peakKiB = 0
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    const sample = () => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (match) peakKiB = Math.max(peakKiB, Number(match[1]))
      } catch {
        // the process has just exited
      }
    }
    const timer = setInterval(sample, 50)
    child.on('error', reject)
    child.on('exit', (exitCode) => {
      clearInterval(timer)
      resolve({ seconds: (performance.now() - started) / 1000, exitCode, peakRssMiB: peakKiB / 1024, stdout })
    })
  })
}

/** OpenSSL's single-core Ed25519 verifications per second (`openssl speed ed25519`). */
export function opensslVerifyRate(seconds = 3): number {
  const out = execFileSync('openssl', ['speed', '-seconds', String(seconds), 'ed25519'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const row = out.split('\n').find((line) => line.includes('EdDSA (Ed25519)'))
  const verifyPerSecond = row?.trim().split(/\s+/).at(-1)
  if (!verifyPerSecond) throw new Error(`unexpected openssl speed output:\n${out}`)
  return Number(verifyPerSecond)
}

export function report(title: string, rows: Array<[string, string]>): void {
  const width = Math.max(...rows.map(([label]) => label.length))
  process.stdout.write(`\n${title}\n${rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n')}\n`)
}
