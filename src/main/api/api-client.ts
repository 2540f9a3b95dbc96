/**
 * A `KaiwaApi` that calls a running node over HTTP (used by the CLI). Built
 * from `apiContract`, so new methods appear here without code changes.
 */
import { z } from 'zod'
import { API_PREFIX, ApiErrorBodySchema, apiContract } from '../../shared/api/contract.js'
import type { ApiMethod, KaiwaApi } from '../../shared/api/contract.js'

export type ApiClientOptions = { url: string; token: string; timeoutMs?: number }

/**
 * A call that did not return a valid result. `status` is the HTTP status (0 when
 * no response arrived); `code` is the server's error code, or `timeout`,
 * `unreachable` or `invalid_response` for failures on this side.
 */
export class ApiCallError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ApiCallError'
    this.status = status
    this.code = code
  }
}

const DEFAULT_TIMEOUT_MS = 30_000

function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause
  return typeof cause?.code === 'string' ? cause.code : undefined
}

export function createApiClient(opts: ApiClientOptions): KaiwaApi {
  const base = opts.url.replace(/\/+$/, '')
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS

  async function call(method: ApiMethod, input: unknown): Promise<unknown> {
    const endpoint = `${base}${API_PREFIX}/${method}`
    let status = 0
    let text: string
    try {
      // One signal covers connecting, waiting and reading the body.
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(input ?? {}),
        signal: AbortSignal.timeout(timeoutMs),
      })
      status = res.status
      text = await res.text()
    } catch (err) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        const msg = `the node at ${base} did not answer ${method} within ${timeoutMs} ms`
        throw new ApiCallError(status, 'timeout', msg, { cause: err })
      }
      const code = causeCode(err)
      const why =
        code === 'ECONNREFUSED'
          ? `the Kaiwa node at ${base} is not running (connection refused); start it with: kaiwa node`
          : `cannot reach the Kaiwa node at ${base} (${code ?? String(err)}); is it running?`
      throw new ApiCallError(status, 'unreachable', why, { cause: err })
    }

    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    if (status < 200 || status > 299) {
      const body = ApiErrorBodySchema.safeParse(json)
      if (body.success)
        throw new ApiCallError(status, body.data.error.code, body.data.error.message)
      throw new ApiCallError(status, `http_${status}`, `${method} failed with HTTP ${status}`)
    }
    const output = apiContract[method].output.safeParse(json)
    if (!output.success) {
      const msg = `the node sent an invalid result for ${method}: ${z.prettifyError(output.error)}`
      throw new ApiCallError(status, 'invalid_response', msg)
    }
    return output.data
  }

  const client: Record<string, (input: unknown) => Promise<unknown>> = {}
  for (const method of Object.keys(apiContract) as ApiMethod[]) {
    client[method] = (input) => call(method, input)
  }
  // Sound because the loop above fills every key and `call` validated each result.
  return client as KaiwaApi
}
