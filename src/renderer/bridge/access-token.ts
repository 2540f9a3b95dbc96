/**
 * The web UI's access token. `kaiwa node --ui` prints a URL carrying it in the
 * fragment (`#token=...`), which browsers never send to the server. The UI
 * keeps it in sessionStorage (this tab only, gone when the tab closes) and
 * removes it from the address bar, so it does not end up in history,
 * bookmarks or screenshots.
 */
const KEY = 'kaiwa.token'

export interface TokenEnv {
  location: Pick<Location, 'hash' | 'pathname' | 'search'>
  history: Pick<History, 'replaceState'>
  storage: Pick<Storage, 'getItem' | 'setItem'>
}

export function takeAccessToken(env: TokenEnv): string | undefined {
  const params = new URLSearchParams(env.location.hash.replace(/^#/, ''))
  const fromUrl = params.get('token')
  if (fromUrl != null && fromUrl !== '') {
    env.storage.setItem(KEY, fromUrl)
    params.delete('token')
    const rest = params.toString()
    env.history.replaceState(
      null,
      '',
      `${env.location.pathname}${env.location.search}${rest ? `#${rest}` : ''}`,
    )
    return fromUrl
  }
  return env.storage.getItem(KEY) ?? undefined
}
