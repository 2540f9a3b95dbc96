/**
 * `devices` and `deviceRemove` (issue 15 §3) over the node's account sync.
 */
import type { ApiOutput, KaiwaApi } from '../../shared/api/contract.js'
import { NotFoundError } from '../../shared/errors.js'
import type { AccountSync } from '../../overlay/sync/account-sync.js'

export type DevicesComponent = Pick<AccountSync, 'listDevices' | 'removeDevice' | 'settingsChanged'>

type DeviceApi = Pick<KaiwaApi, 'devices' | 'deviceRemove'>

export function createDeviceApi(devices: DevicesComponent): DeviceApi {
  const list = async (): Promise<ApiOutput<'devices'>> => {
    const all = await devices.listDevices()
    const iso = (ms: number): string => new Date(ms).toISOString()
    return {
      devices: all
        .map((d) => ({
          peerId: d.peerId,
          self: d.self,
          listed: d.listed,
          removed: d.removedAt != null,
          firstSeen: iso(d.firstSeen),
          lastSeen: iso(d.lastSeen),
          ...(d.removedAt != null ? { removedAt: iso(d.removedAt) } : {}),
        }))
        .sort((a, b) => Number(b.self) - Number(a.self) || a.firstSeen.localeCompare(b.firstSeen)),
    }
  }
  return {
    devices: list,
    deviceRemove: async ({ peerId }) => {
      const known = (await devices.listDevices()).some((d) => d.peerId === peerId)
      if (!known) throw new NotFoundError(`no device ${peerId} in this account`)
      await devices.removeDevice(peerId)
      return list()
    },
  }
}
