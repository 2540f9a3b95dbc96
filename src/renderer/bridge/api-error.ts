/**
 * The error every bridge call rejects with. `code` is the contract's error
 * code (not_found, name_taken, unavailable, ...) or one of the bridge's own:
 * `timeout` (no reply in time), `disconnected` (the node went away while the
 * request was in flight), `invalid_reply` (the node broke the contract),
 * `unauthorized` (wrong token). Screens branch on `code`, never on text.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** Any thrown value as an ApiError (errors crossing Electron IPC lose their class). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err
  const code = (err as { code?: unknown } | null)?.code
  const raw = err instanceof Error ? err.message : String(err)
  // ipcRenderer.invoke prefixes "Error invoking remote method 'kaiwa:call': Error: ".
  const message = raw.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '')
  const tagged = /^\[([a-z_]+)\]\s*(.*)$/s.exec(message)
  if (typeof code === 'string') return new ApiError(code, message)
  if (tagged) return new ApiError(tagged[1]!, tagged[2]!)
  return new ApiError('internal', message)
}
