// Owns line verification for the live commands (`tail --verify`, `webhook listen`): keys from
// --jwks or the server's JWKS, fetched again when a line fails with every key, since the server
// may have rotated its key since the JWKS was loaded: at once the first time (a rotation right
// after start is no tampering), then at most once a minute.

import { JwksError, readJwks } from '../core/jwks.js'
import type { LineVerdict } from '../core/verify.js'
import { LineVerifier } from '../core/verify.js'
import { CliError } from './errors.js'
import type { ServerTarget } from './jwks-source.js'
import { loadJwks } from './jwks-source.js'

const JWKS_REFETCH_MS = 60_000

export interface VerifiedLine {
  readonly verdict: LineVerdict
  /** The kid that verified the line, for valid lines. */
  readonly kid: string | null
}

export class RefreshingVerifier {
  private verifier: LineVerifier
  /** When the JWKS was last fetched again; null = never, so the first failure refetches at once. */
  private refetchedAtMs: number | null = null

  private constructor(
    text: string,
    private readonly refetch: (() => Promise<string>) | null,
    private readonly target: ServerTarget,
    private readonly nowMs: () => number,
  ) {
    this.verifier = this.verifierOf(text)
  }

  /** Loads the keys once; a JWKS file is never fetched again. */
  static async load(
    jwks: string | undefined,
    target: ServerTarget,
    nowMs: () => number = Date.now,
  ): Promise<RefreshingVerifier> {
    const loaded = await loadJwks(jwks, target)
    const refetch = loaded.source === 'file' ? null : async () => (await loadJwks(jwks, target)).text
    try {
      return new RefreshingVerifier(loaded.text, refetch, target, nowMs)
    } catch (error) {
      if (error instanceof JwksError) throw new CliError(`${error.message}; check the --jwks source`)
      throw error
    }
  }

  async verify(line: Buffer): Promise<VerifiedLine> {
    let verdict = this.verifier.verify(line)
    if (verdict.reason === 'no_matching_key' && this.refetch && this.mayRefetch()) {
      this.refetchedAtMs = this.nowMs()
      try {
        this.verifier = this.verifierOf(await this.refetch())
        verdict = this.verifier.verify(line)
      } catch (error) {
        this.target.warn(
          `Warning: could not refresh the JWKS (${(error as Error).message}); keeping the keys loaded before`,
        )
      }
    }
    return { verdict, kid: verdict.keyIndex >= 0 ? (this.verifier.keys[verdict.keyIndex]?.kid ?? null) : null }
  }

  private mayRefetch(): boolean {
    return this.refetchedAtMs === null || this.nowMs() - this.refetchedAtMs >= JWKS_REFETCH_MS
  }

  private verifierOf(text: string): LineVerifier {
    const { keys, warnings } = readJwks(text)
    for (const warning of warnings) this.target.warn(`Warning: ${warning}`)
    return new LineVerifier(keys)
  }
}
