/**
 * Settings → Devices over a scripted bridge: the account's devices with this
 * one marked, Remove for the others (never for this one), the list the node
 * answers with after a removal, and a refusal said in the node's words.
 */
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import type { KaiwaBridge } from '../../../src/shared/api/bridge.js'
import type { DeviceJson } from '../../../src/shared/api/device-schemas.js'
import type { AppServices } from '../../../src/renderer/app/create-app.js'
import { createAccountDevicesController } from '../../../src/renderer/settings/account-devices.js'
import type { AccountDevicesController } from '../../../src/renderer/settings/account-devices.js'
import { AccountDevices } from '../../../src/renderer/ui/AccountDevices.js'
import { AppContext } from '../../../src/renderer/ui/app-context.js'

const at = '2026-12-03T04:00:00.000Z'
const device = (peerId: string, extra: Partial<DeviceJson> = {}): DeviceJson => ({
  peerId,
  self: false,
  listed: true,
  removed: false,
  firstSeen: at,
  lastSeen: at,
  ...extra,
})
const SELF = '12D3KooWSelfSelfSelfSelfSelfSelfSelf0001'
const OTHER = '12D3KooWOtherOtherOtherOtherOtherOth0002'

function fakeBridge(refuse = false) {
  const calls: Array<[string, unknown]> = []
  let devices = [device(SELF, { self: true }), device(OTHER)]
  const bridge = {
    call: async (method: string, input: unknown) => {
      calls.push([method, input])
      if (method === 'deviceRemove') {
        if (refuse)
          throw Object.assign(new Error('remove this device from another device'), {
            code: 'rejected',
          })
        devices = devices.map((d) =>
          d.peerId === (input as { peerId: string }).peerId
            ? { ...d, removed: true, listed: false, removedAt: at }
            : d,
        )
      }
      return { devices }
    },
    onEvent: () => () => {},
    onConnection: () => () => {},
  } as unknown as KaiwaBridge
  return { bridge, calls }
}

function render(controller: AccountDevicesController): string {
  return renderToStaticMarkup(
    <AppContext.Provider value={{} as unknown as AppServices}>
      <AccountDevices controller={controller} />
    </AppContext.Provider>,
  )
}

describe('Settings → Devices', () => {
  it('lists the devices, offers Remove for the others only, and shows the removal', async () => {
    const { bridge, calls } = fakeBridge()
    const devices = createAccountDevicesController(bridge)
    await devices.load()
    let html = render(devices)
    expect(html).toContain('this device')
    expect(html).toContain('online')
    expect(html).toContain(`Remove device …${OTHER.slice(-8)}`)
    expect(html).not.toContain(`Remove device …${SELF.slice(-8)}`)

    await devices.remove(OTHER)
    expect(calls).toContainEqual(['deviceRemove', { peerId: OTHER }])
    html = render(devices)
    expect(html).toContain('removed')
    expect(html).not.toContain(`Remove device …${OTHER.slice(-8)}`)
    expect(devices.store.get().removing).toBeUndefined()
  })

  it("says why the node refused, in the node's words", async () => {
    const { bridge } = fakeBridge(true)
    const devices = createAccountDevicesController(bridge)
    await devices.load()
    await devices.remove(OTHER)
    expect(devices.store.get().error).toBe('remove this device from another device')
    expect(render(devices)).toContain('That did not work: remove this device from another device')
  })
})
