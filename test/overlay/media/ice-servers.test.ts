/**
 * ICE servers for libdatachannel (node-datachannel) on a host of one family or two: libjuice
 * takes one STUN server at random and two TURN servers at most, so only the host's family is
 * kept (forHostFamily, hostIceFamily); IPv6 literals reach the native PeerConnection as bare
 * hostnames (toLibdatachannel), which it accepts.
 */
import nodeDataChannel from 'node-datachannel'
import { describe, expect, it } from 'vitest'
import {
  forHostFamily,
  hostIceFamily,
  iceUrlFamily,
  toLibdatachannel,
} from '../../../src/overlay/media/ice-servers.js'

const info = (address: string, internal = false) =>
  ({ address, family: address.includes(':') ? 'IPv6' : 'IPv4', internal }) as never
const lo = [info('127.0.0.1', true), info('::1', true)]

/** What a dual-stack supernode hands out (TurnService.iceServers()). */
const DUAL = [
  { urls: ['stun:203.0.113.2:3478', 'stun:[2001:db8::2]:3478'] },
  {
    urls: [
      'turn:203.0.113.2:3478?transport=udp',
      'turn:203.0.113.2:3478?transport=tcp',
      'turn:[2001:db8::2]:3478?transport=udp',
      'turn:[2001:db8::2]:3478?transport=tcp',
    ],
    username: '1763700000:12D3KooWabc',
    credential: 'pw',
  },
]

describe('ICE servers by address family', () => {
  it('tells an URL family from its literal host (none for a name)', () => {
    expect(iceUrlFamily('stun:203.0.113.2:3478')).toBe(4)
    expect(iceUrlFamily('turn:[2001:db8::2]:3478?transport=udp')).toBe(6)
    expect(iceUrlFamily('turn:turn.example.org')).toBeUndefined()
    expect(iceUrlFamily('https://example.org')).toBeUndefined()
  })

  it('uses IPv6 servers only on an IPv6-only host', () => {
    expect(hostIceFamily({ lo, eth0: [info('2001:db8:1::10'), info('fe80::1')] })).toBe(6)
    expect(hostIceFamily({ lo, eth0: [info('192.168.1.10'), info('2001:db8:1::10')] })).toBe(4)
    expect(hostIceFamily({ lo, eth0: [info('192.168.1.10')] })).toBe(4)
    // Loopback only (a one-machine network): its servers are on 127.0.0.1.
    expect(hostIceFamily({ lo })).toBe(4)
    expect(hostIceFamily({ lo, eth0: [info('fe80::1')] })).toBe(4)
  })

  it('keeps one family, names of either, and drops entries left empty', () => {
    const v4 = forHostFamily(DUAL, 4)
    expect(v4.flatMap((s) => s.urls)).toEqual([
      'stun:203.0.113.2:3478',
      'turn:203.0.113.2:3478?transport=udp',
      'turn:203.0.113.2:3478?transport=tcp',
    ])
    expect(v4[1]).toMatchObject({ username: DUAL[1]!.username, credential: 'pw' })
    expect(forHostFamily(DUAL, 6).flatMap((s) => s.urls)).toEqual([
      'stun:[2001:db8::2]:3478',
      'turn:[2001:db8::2]:3478?transport=udp',
      'turn:[2001:db8::2]:3478?transport=tcp',
    ])
    expect(forHostFamily([{ urls: 'stun:stun.example.org' }, { urls: ['stun:[::1]'] }], 4)).toEqual(
      [{ urls: ['stun:stun.example.org'] }],
    )
  })

  it("gives an IPv6-only host's native PeerConnection the IPv6 servers as bare hostnames", () => {
    const servers = toLibdatachannel(forHostFamily(DUAL, 6))
    expect(servers.map((s) => [s.hostname, s.port, s.relayType ?? 'stun'])).toEqual([
      ['2001:db8::2', 3478, 'stun'],
      ['2001:db8::2', 3478, 'TurnUdp'],
      ['2001:db8::2', 3478, 'TurnTcp'],
    ])
    const pc = new nodeDataChannel.PeerConnection('ice-servers-test', { iceServers: servers })
    pc.close()
  })
})
