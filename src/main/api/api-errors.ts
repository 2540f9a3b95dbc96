/**
 * How the control API answers failures: HTTP status by error code, and the
 * 401 text, which says what to do and names no path (issue 11: no secrets or
 * paths in error bodies).
 */
import type { ErrorCode } from '../../shared/errors.js'

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_input: 400,
  invalid_user_id: 400,
  invalid_record: 400,
  name_taken: 409,
  not_found: 404,
  no_peers: 503,
  unavailable: 503,
  rejected: 502,
  key_changed: 409,
  conflict: 409,
  timeout: 504,
  unauthorized: 401,
  internal: 500,
}

export type Outcome =
  { ok: true; result: unknown } | { ok: false; status: number; code: string; message: string }

/**
 * The 401 text: what to do, with no path in it. Whoever reaches the port
 * without the token learns nothing about this machine's layout.
 */
export const UNAUTHORIZED_HELP =
  "missing or wrong API token: run `kaiwa status --data DIR` on the node's machine " +
  '(DIR: its data directory; kaiwa commands read the token from DIR/api-token), ' +
  'or open the UI from the "ui" address of the node\'s ready line'

/** A hint that looks like a filesystem path (POSIX or Windows) stays off the wire. */
export function unauthorizedMessage(hint: string | undefined): string {
  if (hint == null || /[/\\]/.test(hint) || /^[A-Za-z]:/.test(hint)) return UNAUTHORIZED_HELP
  return `missing or wrong API token; the token is in ${hint}`
}

export function fail(status: number, code: string, message: string): Outcome {
  return { ok: false, status, code, message }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err)
}
