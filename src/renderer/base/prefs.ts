/**
 * The UI's own preferences (theme, chosen microphone and speaker) in
 * localStorage. Everything the node should know lives in the node; these
 * belong to this browser or window only.
 */
export interface Prefs {
  get(key: string): string | undefined
  set(key: string, value: string | undefined): void
}

export function createPrefs(storage: Storage | undefined, prefix = 'kaiwa.'): Prefs {
  return {
    get(key) {
      try {
        return storage?.getItem(prefix + key) ?? undefined
      } catch {
        return undefined // storage disabled (private mode, policy)
      }
    },
    set(key, value) {
      try {
        if (value === undefined) storage?.removeItem(prefix + key)
        else storage?.setItem(prefix + key, value)
      } catch {
        // storage disabled or full: the preference lasts for this session only
      }
    },
  }
}
