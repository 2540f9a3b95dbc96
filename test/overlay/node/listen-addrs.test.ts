/**
 * Default listen addresses: IPv4 always, IPv6 too when the host has an IPv6 address another host
 * can reach (not loopback, not link-local).
 */
import type { NetworkInterfaceInfo } from 'node:os'
import { networkInterfaces } from 'node:os'
import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../../src/shared/errors.js'
import {
  defaultListenAddrs,
  isReachableIpv6,
  reachableIpv6,
} from '../../../src/overlay/node/listen-addrs.js'
import type { InterfaceMap } from '../../../src/overlay/node/listen-addrs.js'

const iface = (address: string, extra: Partial<NetworkInterfaceInfo> = {}): NetworkInterfaceInfo =>
  ({
    address,
    netmask: address.includes(':') ? 'ffff:ffff:ffff:ffff::' : '255.255.255.0',
    family: address.includes(':') ? 'IPv6' : 'IPv4',
    mac: '02:00:00:00:00:01',
    internal: false,
    cidr: null,
    ...(address.includes(':') ? { scopeid: 0 } : {}),
    ...extra,
  }) as NetworkInterfaceInfo

const LO: NetworkInterfaceInfo[] = [
  iface('127.0.0.1', { internal: true }),
  iface('::1', { internal: true }),
]
const V4 = '/ip4/0.0.0.0/tcp/0'
const V6 = '/ip6/::/tcp/0'

describe('defaultListenAddrs', () => {
  it('listens on IPv4 only without a reachable IPv6 address', () => {
    expect(defaultListenAddrs({})).toEqual([V4])
    expect(defaultListenAddrs({ lo: LO })).toEqual([V4])
    const linkLocal: InterfaceMap = {
      lo: LO,
      eth0: [iface('192.168.1.5'), iface('fe80::fc:ff:fe00:1', { scopeid: 2 })],
    }
    expect(defaultListenAddrs(linkLocal)).toEqual([V4])
  })

  it('adds /ip6/:: with a global or unique-local IPv6 address', () => {
    const global: InterfaceMap = { lo: LO, eth0: [iface('203.0.113.5'), iface('2001:db8::5')] }
    expect(defaultListenAddrs(global)).toEqual([V4, V6])
    expect(defaultListenAddrs({ eth0: [iface('fd00::2')] }, 4001)).toEqual([
      '/ip4/0.0.0.0/tcp/4001',
      '/ip6/::/tcp/4001',
    ])
  })

  it('accepts the numeric family of old Node versions', () => {
    const old = { eth0: [iface('2001:db8::5', { family: 6 as unknown as 'IPv6' })] }
    expect(defaultListenAddrs(old)).toEqual([V4, V6])
  })

  it('throws InvalidInputError on a bad port', () => {
    for (const port of [-1, 65536, 1.5, Number.NaN]) {
      expect(() => defaultListenAddrs({}, port)).toThrow(InvalidInputError)
    }
  })

  it('runs on this host', () => {
    const addrs = defaultListenAddrs(networkInterfaces())
    expect(addrs[0]).toBe(V4)
    expect(addrs.length === 2).toBe(reachableIpv6(networkInterfaces()).length > 0)
  })
})

describe('reachableIpv6', () => {
  it('lists global and ULA addresses, not loopback, link-local or IPv4', () => {
    const map: InterfaceMap = {
      lo: LO,
      eth0: [iface('10.0.0.2'), iface('fe80::1', { scopeid: 2 }), iface('2001:db8::7')],
      wg0: [iface('fd12::1')],
      down: undefined,
    }
    expect(reachableIpv6(map)).toEqual(['2001:db8::7', 'fd12::1'])
  })
})

describe('isReachableIpv6', () => {
  it.each([
    ['2001:db8::1', true],
    ['fd00::2', true],
    ['fe80::1%eth0', false],
    ['fe80::1', false],
    ['::1', false],
    ['::', false],
    ['127.0.0.1', false],
    ['not an address', false],
  ])('%s → %s', (address, want) => {
    expect(isReachableIpv6(address)).toBe(want)
  })
})
