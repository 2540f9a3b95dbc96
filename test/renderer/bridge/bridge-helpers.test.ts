/** The small pieces around the bridges: the URL token and error codes across IPC. */
import { describe, expect, it } from 'vitest'
import { takeAccessToken } from '../../../src/renderer/bridge/access-token.js'
import { ApiError, toApiError } from '../../../src/renderer/bridge/api-error.js'

function env(hash: string, stored?: string) {
  const store = new Map<string, string>(stored ? [['kaiwa.token', stored]] : [])
  const replaced: string[] = []
  return {
    store,
    replaced,
    env: {
      location: { hash, pathname: '/', search: '' },
      history: {
        replaceState: (_s: unknown, _t: string, url?: string | URL | null) =>
          void replaced.push(String(url)),
      },
      storage: {
        getItem: (k: string) => store.get(k) ?? null,
        setItem: (k: string, v: string) => void store.set(k, v),
      },
    },
  }
}

describe('access token', () => {
  it('takes the token from the fragment, keeps it for the tab, and clears the address bar', () => {
    const e = env('#token=abc123&x=1')
    expect(takeAccessToken(e.env)).toBe('abc123')
    expect(e.store.get('kaiwa.token')).toBe('abc123')
    expect(e.replaced).toEqual(['/#x=1'])
  })

  it('falls back to the stored token after a reload, and to nothing', () => {
    expect(takeAccessToken(env('', 'kept').env)).toBe('kept')
    expect(takeAccessToken(env('').env)).toBeUndefined()
  })
})

describe('toApiError', () => {
  it('keeps codes, and recovers them from errors that crossed Electron IPC', () => {
    expect(toApiError(new ApiError('not_found', 'x')).code).toBe('not_found')
    expect(toApiError(Object.assign(new Error('gone'), { code: 'timeout' })).code).toBe('timeout')
    const ipc = toApiError(
      new Error("Error invoking remote method 'kaiwa:call': Error: [name_taken] taken"),
    )
    expect([ipc.code, ipc.message]).toEqual(['name_taken', 'taken'])
    expect(toApiError('weird').code).toBe('internal')
  })
})
