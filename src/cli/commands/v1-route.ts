// Owns how /v1 commands (tokens, keys) answer a server without /v1 routes, such as Konnect's own
// API: a 404 there means the route is missing, reported as `not supported by this server` (§9.1).

import type { ApiClient, ApiResponse, RequestOptions } from '../../api/client.js'
import { ApiError } from '../../api/errors.js'
import { CliError } from '../errors.js'

/** Sends a request to a /v1 collection route (no id in the path), where 404 can only mean "no such route". */
export async function sendV1(
  api: ApiClient,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<ApiResponse> {
  try {
    return await api.send(method, path, options)
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new CliError(
        `not supported by this server: it has no ${method} ${path.split('?')[0]} (only a konnect-audit server has the /v1 routes)`,
      )
    }
    throw error
  }
}
