/**
 * Roaming (issue 13): an address that appears or disappears on any interface
 * is reported once, loopback and link-local changes are not, and an
 * unreadable interface table is a logged skip, never a throw.
 */
import type { NetworkInterfaceInfo } from 'node:os'
import { describe, expect, it } from 'vitest'
import { InterfaceWatch } from '../../../src/overlay/node/interface-watch.js'
import { silentLogger } from '../../helpers/logger.js'

const v4 = (address: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${address}/24`,
})
const v6 = (address: string): NetworkInterfaceInfo => ({
  address,
  netmask: 'ffff:ffff:ffff:ffff::',
  family: 'IPv6',
  mac: '00:00:00:00:00:00',
  internal: false,
  cidr: `${address}/64`,
  scopeid: 0,
})

describe('InterfaceWatch', () => {
  it('reports a move from one network to another, and nothing when nothing changed', () => {
    let table: NodeJS.Dict<NetworkInterfaceInfo[]> = {
      lo: [v4('127.0.0.1', true)],
      wlan0: [v4('192.0.2.10'), v6('fe80::1')],
    }
    const seen: Array<{ added: string[]; removed: string[] }> = []
    const w = new InterfaceWatch({
      onChange: (c) => seen.push(c),
      log: silentLogger,
      read: () => table,
    })
    w.start()
    w.check()
    expect(seen).toEqual([])
    // Wi-Fi goes, tethering comes (with a global IPv6 address).
    table = { lo: [v4('127.0.0.1', true)], usb0: [v4('198.51.100.7'), v6('2001:db8::7')] }
    w.check()
    expect(seen).toEqual([{ added: ['198.51.100.7', '2001:db8::7'], removed: ['192.0.2.10'] }])
    w.check()
    expect(seen).toHaveLength(1)
    // Only loopback and link-local changes: not worth a republish.
    table = {
      lo: [v4('127.0.0.2', true)],
      usb0: [v4('198.51.100.7'), v6('2001:db8::7'), v6('fe80::9')],
    }
    w.check()
    expect(seen).toHaveLength(1)
    w.stop()
  })

  it('skips an unreadable interface table', () => {
    let fail = false
    const w = new InterfaceWatch({
      onChange: () => {
        throw new Error('must not be called')
      },
      log: silentLogger,
      read: () => {
        if (fail) throw new Error('getifaddrs failed')
        return { eth0: [v4('192.0.2.1')] }
      },
    })
    w.start()
    fail = true
    expect(() => w.check()).not.toThrow()
    w.stop()
  })
})
