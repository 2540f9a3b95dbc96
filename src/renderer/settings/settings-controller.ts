/**
 * Node settings (supernode mode, caps) and what the node spends for others
 * (`usage`, pushed as events and polled while the screen is open), plus the
 * About box, log export and account backup.
 */
import type { KaiwaBridge } from '../../shared/api/bridge.js'
import type {
  ApiOutput,
  FileSettings,
  SettingsJson,
  SupernodeCaps,
  SupernodeMode,
  Usage,
} from '../../shared/api/contract.js'
import { toApiError } from '../bridge/api-error.js'
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'

export interface SettingsState {
  settings: SettingsJson | undefined
  usage: Usage | undefined
  about: ApiOutput<'about'> | undefined
  /** The last failure to show (loading or saving), already in the user's words. */
  error: string | undefined
  saving: boolean
}

export interface SettingsController {
  store: Store<SettingsState>
  load(): Promise<void>
  setMode(mode: SupernodeMode): Promise<void>
  setCaps(caps: Partial<SupernodeCaps>): Promise<void>
  /**
   * File settings (issue 15 §1); the node checks the downloads folder.
   * Resolves with why they were not saved (for the Files section alone), or undefined.
   */
  setFiles(files: Partial<FileSettings>): Promise<string | undefined>
  /** Poll usage every `everyMs` while a screen shows it; returns a stop function. */
  watchUsage(everyMs?: number): () => void
  exportIdentity(passphrase: string): Promise<string>
  logs(): Promise<string>
}

export function createSettingsController(bridge: KaiwaBridge): SettingsController {
  const store = createStore<SettingsState>({
    settings: undefined,
    usage: undefined,
    about: undefined,
    error: undefined,
    saving: false,
  })
  const fail = (err: unknown): void => store.patch({ error: toApiError(err).message })

  async function update(input: {
    supernodeMode?: SupernodeMode
    caps?: Partial<SupernodeCaps>
  }): Promise<void> {
    store.patch({ saving: true, error: undefined })
    try {
      store.patch({ settings: await bridge.call('settingsUpdate', input) })
      void refreshUsage()
    } catch (err) {
      fail(err)
    } finally {
      store.patch({ saving: false })
    }
  }

  async function refreshUsage(): Promise<void> {
    try {
      store.patch({ usage: await bridge.call('usage', {}) })
    } catch {
      // Usage is a nicety; the settings still work without it.
    }
  }

  bridge.onEvent((e) => {
    if (e.event === 'usage') store.patch({ usage: e.data })
  })

  return {
    store,
    async load() {
      const [settings, about] = await Promise.allSettled([
        bridge.call('settings', {}),
        bridge.call('about', {}),
      ])
      store.patch({
        settings: settings.status === 'fulfilled' ? settings.value : store.get().settings,
        about: about.status === 'fulfilled' ? about.value : store.get().about,
        error: settings.status === 'rejected' ? toApiError(settings.reason).message : undefined,
      })
      await refreshUsage()
    },
    setMode: (supernodeMode) => update({ supernodeMode }),
    setCaps: (caps) => update({ caps }),
    async setFiles(files) {
      store.patch({ saving: true })
      try {
        store.patch({ settings: await bridge.call('settingsUpdate', { files }) })
        return undefined
      } catch (err) {
        return toApiError(err).message
      } finally {
        store.patch({ saving: false })
      }
    },
    watchUsage(everyMs = 5000) {
      void refreshUsage()
      const timer = setInterval(() => void refreshUsage(), everyMs)
      return () => clearInterval(timer)
    },
    async exportIdentity(passphrase) {
      const { backup } = await bridge.call('identityExport', { passphrase })
      return backup
    },
    async logs() {
      const { text } = await bridge.call('logs', {})
      return text
    },
  }
}
