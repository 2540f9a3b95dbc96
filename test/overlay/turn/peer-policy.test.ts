/**
 * The TURN peer policy on its own (peer-policy.ts): the default deny list, loopback, the host's
 * own addresses and its relay ports, allowPeers, refreshing the interface list; and the
 * `--turn-allow-peers` value parser (turn-options.ts). No sockets.
 */
import { describe, expect, it } from 'vitest'
import { InvalidInputError } from '../../../src/shared/errors.js'
import { InvalidCidrError } from '../../../src/shared/net/cidr.js'
import {
  HOST_ADDRESSES_TTL_MS,
  PeerPolicy,
  hostInterfaceAddresses,
} from '../../../src/overlay/turn/peer-policy.js'
import type { PeerPolicyInit } from '../../../src/overlay/turn/peer-policy.js'
import { parseAllowPeers } from '../../../src/overlay/turn/turn-options.js'
import { DENIED_SAMPLES } from './peer-samples.js'

const LISTEN = 3478
const RELAY = 62000

function policy(init: Partial<PeerPolicyInit> = {}): PeerPolicy {
  return new PeerPolicy({
    allowLoopback: false,
    listenPort: () => LISTEN,
    bindAddress: '0.0.0.0',
    isRelayPort: (p) => p === RELAY,
    interfaceAddresses: () => ['127.0.0.1', '::1', '192.168.7.7', '8.8.4.4', 'fe80::1234'],
    ...init,
  })
}
const at = (address: string, port = 5000) => ({ address, port })

const DENIED_V6 = [
  'fe80::1',
  'ff02::1',
  'ff0e::1',
  'fc00::1',
  'fd12:3456::1',
  '2001:db8::1',
  '2001::1', // Teredo
  '2002:a00:1::1', // 6to4 of 10.0.0.1
  '100::1',
  '64:ff9b:1::1',
  '3fff::1',
  'fec0::1',
  '::ffff:10.0.0.1',
  '::ffff:169.254.169.254',
  '::ffff:255.255.255.255',
  '64:ff9b::10.0.0.1',
  '64:ff9b::a9fe:a9fe', // 169.254.169.254
  '::10.0.0.1', // deprecated IPv4-compatible
]

describe('PeerPolicy defaults', () => {
  it('refuses every special-purpose range, IPv4 and IPv6 (mapped/NAT64 judged as IPv4)', () => {
    const p = policy()
    for (const a of [...DENIED_SAMPLES, ...DENIED_V6]) expect(p.verdict(at(a)), a).toBe('special')
  })

  it('allows public unicast, also in mapped and NAT64 form', () => {
    const p = policy()
    for (const a of ['8.8.8.8', '1.1.1.1', '100.63.255.255', '100.128.0.1', '172.32.0.1']) {
      expect(p.verdict(at(a)), a).toBe('allowed')
    }
    for (const a of ['2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::1.1.1.1']) {
      expect(p.verdict(at(a)), a).toBe('allowed')
    }
  })

  it('refuses port 0, unspecified addresses and text that is no address', () => {
    const p = policy({ allowPeers: ['0.0.0.0/0', '::/0'] })
    for (const peer of [at('8.8.8.8', 0), at('0.0.0.0'), at('::'), at('::ffff:0.0.0.0')]) {
      expect(p.verdict(peer)).toBe('invalid')
    }
    for (const bad of ['', 'localhost', '10.0.0.1/8', 'fe80::1%eth0', '1.2.3.4.5']) {
      expect(p.verdict(at(bad)), bad).toBe('invalid')
    }
    expect(p.verdict(at('8.8.8.8', 65536))).toBe('invalid')
  })

  it('refuses loopback unless allowLoopback, and the listen port always', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(policy().verdict(at(a)), a).toBe('loopback')
      expect(policy({ allowLoopback: true }).verdict(at(a)), a).toBe('allowed')
    }
    const open = policy({ allowLoopback: true, allowPeers: ['0.0.0.0/0'] })
    expect(open.verdict(at('127.0.0.1', LISTEN))).toBe('loop')
    expect(open.verdict(at('192.168.7.7', LISTEN))).toBe('loop')
    expect(open.verdict(at('8.8.8.8', LISTEN))).toBe('allowed') // someone else's 3478
  })
})

describe("PeerPolicy and the host's own addresses", () => {
  it('refuses them, public or not, but at a live relay port of this server', () => {
    const p = policy()
    for (const a of ['192.168.7.7', '8.8.4.4', '::ffff:8.8.4.4', 'fe80::1234']) {
      expect(p.verdict(at(a)), a).toBe('host')
      expect(p.verdict(at(a, RELAY)), a).toBe('relay')
      expect(p.allows(at(a, RELAY)), a).toBe(true)
    }
    // allowLoopback is about loopback only.
    expect(policy({ allowLoopback: true }).verdict(at('8.8.4.4'))).toBe('host')
  })

  it('counts relay ports only where the relay sockets are bound or announced', () => {
    const onLoopback = policy({ bindAddress: '127.0.0.1' })
    expect(onLoopback.verdict(at('8.8.4.4', RELAY))).toBe('host')
    const announced = policy({ bindAddress: '127.0.0.1', announcedAddress: () => '9.9.9.9' })
    expect(announced.verdict(at('9.9.9.9'))).toBe('host')
    expect(announced.verdict(at('9.9.9.9', RELAY))).toBe('relay')
    expect(announced.verdict(at('8.8.4.4', RELAY))).toBe('host')
    const bound = policy({ bindAddress: '8.8.4.4' })
    expect(bound.verdict(at('8.8.4.4', RELAY))).toBe('relay')
    expect(bound.verdict(at('192.168.7.7', RELAY))).toBe('host')
  })

  it('reads the interfaces again after HOST_ADDRESSES_TTL_MS, keeping the last list on error', () => {
    let list: string[] | Error = ['8.8.4.4']
    let now = 0
    const p = policy({
      clock: () => now,
      interfaceAddresses: () => {
        if (list instanceof Error) throw list
        return list
      },
    })
    expect(p.verdict(at('8.8.4.4'))).toBe('host')
    list = ['1.1.1.1']
    now += HOST_ADDRESSES_TTL_MS - 1
    expect(p.verdict(at('1.1.1.1'))).toBe('allowed')
    now += 1
    expect(p.verdict(at('1.1.1.1'))).toBe('host')
    expect(p.verdict(at('8.8.4.4'))).toBe('allowed')
    list = new Error('uv_interface_addresses failed')
    now += HOST_ADDRESSES_TTL_MS
    expect(p.verdict(at('1.1.1.1'))).toBe('host')
  })

  it('reads the real interfaces by default', () => {
    const own = hostInterfaceAddresses()
    expect(own).toContain('127.0.0.1')
    const p = new PeerPolicy({
      allowLoopback: false,
      listenPort: () => LISTEN,
      bindAddress: '127.0.0.1',
      isRelayPort: () => false,
    })
    for (const a of own.filter((x) => !x.startsWith('127.') && x !== '::1')) {
      expect(p.verdict(at(a)), a).toBe('host')
    }
  })
})

describe('PeerPolicy allowPeers', () => {
  it('lets matching addresses through the deny list, own and loopback ones included', () => {
    const p = policy({ allowPeers: ['192.168.0.0/16', '10.1.2.3', 'fd00::/8', '127.0.0.0/8'] })
    for (const a of ['192.168.1.1', '::ffff:192.168.1.1', '10.1.2.3', 'fd00::1', '127.0.0.1']) {
      expect(p.verdict(at(a)), a).toBe('allowed')
    }
    expect(p.verdict(at('192.168.7.7'))).toBe('allowed') // the host's own, explicitly allowed
    for (const a of ['10.1.2.4', '172.16.0.1', 'fe80::1', '::1']) {
      expect(p.allows(at(a)), a).toBe(false)
    }
  })

  it('throws InvalidCidrError on a malformed entry', () => {
    expect(() => policy({ allowPeers: ['10.0.0.1/8'] })).toThrow(InvalidCidrError)
    expect(() => policy({ allowPeers: ['lan'] })).toThrow(/not a valid IP address or CIDR/)
  })
})

describe('parseAllowPeers (--turn-allow-peers CIDR[,CIDR…])', () => {
  it('splits on commas and checks each entry', () => {
    expect(parseAllowPeers('192.168.1.0/24')).toEqual(['192.168.1.0/24'])
    expect(parseAllowPeers('10.0.0.0/8, 192.168.1.7 ,fd00::/8')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'fd00::/8',
    ])
  })

  it('throws InvalidInputError on an empty entry and InvalidCidrError on a bad one', () => {
    for (const bad of ['', ' ', '10.0.0.0/8,', ',10.0.0.0/8', '10.0.0.0/8,,fd00::/8']) {
      expect(() => parseAllowPeers(bad), bad).toThrow(InvalidInputError)
      expect(() => parseAllowPeers(bad), bad).toThrow(/expected CIDR\[,CIDR…\]/)
    }
    expect(() => parseAllowPeers('10.0.0.0/8,192.168.1.1/16')).toThrow(InvalidCidrError)
    expect(() => parseAllowPeers('10.0.0.0/40')).toThrow(/prefix length must be 0-32/)
  })
})
