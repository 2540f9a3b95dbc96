/**
 * Settings → Devices (issue 15 §3): this account's devices as the node knows
 * them (this one, the others its record lists or that synced with it, those
 * removed), and removing one. Removing is final: the other devices stop
 * syncing with it and the account's record stops listing it.
 */
import type { KaiwaBridge } from '../../shared/api/bridge.js'
import type { DeviceJson } from '../../shared/api/device-schemas.js'
import { toApiError } from '../bridge/api-error.js'
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'

export interface AccountDevicesState {
  devices: DeviceJson[] | undefined
  /** The peer id being removed. */
  removing: string | undefined
  /** The last failure, already in the user's words. */
  error: string | undefined
}

export interface AccountDevicesController {
  store: Store<AccountDevicesState>
  load(): Promise<void>
  remove(peerId: string): Promise<void>
}

export function createAccountDevicesController(bridge: KaiwaBridge): AccountDevicesController {
  const store = createStore<AccountDevicesState>({
    devices: undefined,
    removing: undefined,
    error: undefined,
  })
  return {
    store,
    async load() {
      try {
        store.patch({ devices: (await bridge.call('devices', {})).devices, error: undefined })
      } catch (err) {
        store.patch({ error: toApiError(err).message })
      }
    },
    async remove(peerId) {
      store.patch({ removing: peerId, error: undefined })
      try {
        store.patch({ devices: (await bridge.call('deviceRemove', { peerId })).devices })
      } catch (err) {
        store.patch({ error: toApiError(err).message })
      } finally {
        store.patch({ removing: undefined })
      }
    },
  }
}
