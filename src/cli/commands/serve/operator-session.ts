// Owns opening the store for an operator subcommand and turning its failures into CLI errors.

import type { OperatorSession } from '../../../server/operator.js'
import { CliError, ConflictError, UsageError } from '../../errors.js'
import type { Factory } from '../../factory.js'

interface StoreFlagValues {
  readonly dataDir?: string
  readonly dev?: boolean
  readonly database?: string
}

/** Runs `work` with an open operator session, closing it afterwards. */
export async function withOperatorSession<T>(
  flags: StoreFlagValues,
  f: Factory,
  work: (session: OperatorSession, operator: typeof import('../../../server/operator.js')) => Promise<T>,
): Promise<T> {
  const operator = await import('../../../server/operator.js')
  const { ServerConfigError } = await import('../../../server/config.js')
  const { StoreError } = await import('../../../store/store.js')
  let session: OperatorSession
  try {
    session = await operator.openOperatorSession(flags, f.env)
  } catch (error) {
    if (error instanceof ServerConfigError) throw new UsageError(error.message)
    throw new CliError(`cannot open the store: ${(error as Error).message}`)
  }
  try {
    return await work(session, operator)
  } catch (error) {
    if (error instanceof operator.SecretFileExistsError) throw new UsageError(error.message)
    if (error instanceof Error && 'syscall' in error)
      throw new CliError(`cannot write the token file: ${error.message}`)
    if (error instanceof StoreError && error.kind === 'conflict') throw new ConflictError(error.message)
    if (error instanceof StoreError) throw new CliError(error.message)
    throw error
  } finally {
    await session.close()
  }
}
