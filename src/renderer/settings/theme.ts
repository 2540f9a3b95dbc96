/**
 * Light and dark themes: the system's choice (prefers-color-scheme) unless
 * the user picked one. Applied as `data-theme` on <html>; the CSS does the rest.
 */
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'
import type { Prefs } from '../base/prefs.js'

export type ThemeChoice = 'system' | 'light' | 'dark'

export interface ThemeState {
  choice: ThemeChoice
  effective: 'light' | 'dark'
}

export interface ThemeController {
  store: Store<ThemeState>
  set(choice: ThemeChoice): void
  /** Flip between light and dark (the toolbar button). */
  toggle(): void
  dispose(): void
}

export function createThemeController(win: Window, prefs: Prefs): ThemeController {
  const query = win.matchMedia?.('(prefers-color-scheme: dark)')
  const saved = prefs.get('theme')
  const initial: ThemeChoice = saved === 'light' || saved === 'dark' ? saved : 'system'
  const effectiveOf = (choice: ThemeChoice): 'light' | 'dark' =>
    choice === 'system' ? (query?.matches ? 'dark' : 'light') : choice
  const store = createStore<ThemeState>({ choice: initial, effective: effectiveOf(initial) })
  const apply = (): void => {
    win.document.documentElement.dataset.theme = store.get().effective
  }
  const set = (choice: ThemeChoice): void => {
    prefs.set('theme', choice === 'system' ? undefined : choice)
    store.set({ choice, effective: effectiveOf(choice) })
    apply()
  }
  const onSystem = (): void => {
    if (store.get().choice === 'system') set('system')
  }
  query?.addEventListener('change', onSystem)
  apply()
  return {
    store,
    set,
    toggle: () => set(store.get().effective === 'dark' ? 'light' : 'dark'),
    dispose: () => query?.removeEventListener('change', onSystem),
  }
}
