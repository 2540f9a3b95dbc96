/**
 * Which addresses go into a contact record, in which order: relay and WebRTC
 * first (a NATed device is only reachable through them), then public, LAN and
 * loopback; duplicates dropped; cut at the cap.
 */
import { describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { addrRank, pickDeviceAddrs } from '../../../src/overlay/node/device-addrs.js'

const RELAY = '12D3KooWKKZJu4J7Jg8ex6y22Hg95HZZEpCGvVVhinFKsFKGjXpR'
const CIRCUIT = `/ip4/203.0.113.5/tcp/4001/p2p/${RELAY}/p2p-circuit`
const CIRCUIT_WEBRTC = `${CIRCUIT}/webrtc`
const PUBLIC4 = '/ip4/203.0.113.9/tcp/4001'
const PUBLIC6 = '/ip6/2606:4700::1/tcp/4001'
const LAN = '/ip4/192.168.1.20/tcp/4001'
const LAN10 = '/ip4/10.0.0.7/tcp/4001'
const LAN172 = '/ip4/172.20.0.3/tcp/4001'
const ULA6 = '/ip6/fd00::5/tcp/4001'
const LOOP4 = '/ip4/127.0.0.1/tcp/4001'
const LOOP6 = '/ip6/::1/tcp/4001'

const pick = (addrs: string[], max = 10): string[] =>
  pickDeviceAddrs(
    addrs.map((a) => multiaddr(a)),
    max,
  ).map((a) => a.toString())

describe('addrRank', () => {
  it.each([
    [CIRCUIT_WEBRTC, 0],
    [CIRCUIT, 1],
    [PUBLIC4, 2],
    [PUBLIC6, 2],
    [LAN, 3],
    [LAN10, 3],
    [LAN172, 3],
    [ULA6, 3],
    ['/ip4/169.254.3.4/tcp/1', 3],
    [LOOP4, 4],
    [LOOP6, 4],
  ])('%s ranks %i', (addr, rank) => {
    expect(addrRank(multiaddr(addr))).toBe(rank)
  })

  it('ranks a loopback or LAN /webrtc-direct address by its IP, not as a WebRTC relay address', () => {
    expect(addrRank(multiaddr('/ip4/127.0.0.1/udp/4001/webrtc-direct'))).toBe(4)
    expect(addrRank(multiaddr('/ip4/192.168.1.2/udp/4001/webrtc-direct'))).toBe(3)
    expect(addrRank(multiaddr('/ip4/203.0.113.9/udp/4001/webrtc-direct'))).toBe(2)
  })

  it('does not take 172.32.x (outside 172.16/12) for a LAN address', () => {
    expect(addrRank(multiaddr('/ip4/172.32.0.1/tcp/1'))).toBe(2)
  })
})

describe('pickDeviceAddrs', () => {
  it('puts circuit/webrtc first and loopback last, keeping input order within a rank', () => {
    expect(pick([LOOP4, LAN, PUBLIC4, CIRCUIT, LOOP6, PUBLIC6, CIRCUIT_WEBRTC, LAN10])).toEqual([
      CIRCUIT_WEBRTC,
      CIRCUIT,
      PUBLIC4,
      PUBLIC6,
      LAN,
      LAN10,
      LOOP4,
      LOOP6,
    ])
  })

  it('drops duplicates', () => {
    expect(pick([LOOP4, CIRCUIT, LOOP4, CIRCUIT, LAN, LAN])).toEqual([CIRCUIT, LAN, LOOP4])
  })

  it('cuts the list at the cap, keeping the most useful addresses', () => {
    expect(pick([LOOP4, LAN, PUBLIC4, CIRCUIT, CIRCUIT_WEBRTC], 2)).toEqual([
      CIRCUIT_WEBRTC,
      CIRCUIT,
    ])
    // Duplicates do not use up the cap.
    expect(pick([LOOP4, LOOP4, LOOP4, LAN], 2)).toEqual([LAN, LOOP4])
    expect(pick([LOOP4, LAN], 0)).toEqual([])
  })

  it('handles an empty list and does not modify its input', () => {
    expect(pick([])).toEqual([])
    const input = [LOOP4, CIRCUIT].map((a) => multiaddr(a))
    pickDeviceAddrs(input, 10)
    expect(input.map(String)).toEqual([LOOP4, CIRCUIT])
  })
})

describe('pickDeviceAddrs on a dual-stack host', () => {
  const PUBLIC4B = '/ip4/203.0.113.10/udp/4001/webrtc-direct'
  const PUBLIC4C = '/ip4/203.0.113.9/tcp/4002/ws'
  const TEMP6 = '/ip6/2606:4700::2/tcp/4001'
  const TEMP6B = '/ip6/2606:4700::3/tcp/4001'

  it('alternates IPv4 and IPv6 within a rank, so the cap keeps both families', () => {
    expect(pick([PUBLIC4, PUBLIC4B, PUBLIC4C, PUBLIC6, TEMP6, TEMP6B], 4)).toEqual([
      PUBLIC4,
      PUBLIC6,
      PUBLIC4B,
      TEMP6,
    ])
    // The family listed first leads; the rest of the longer family follows in order.
    expect(pick([PUBLIC6, TEMP6, TEMP6B, PUBLIC4])).toEqual([PUBLIC6, PUBLIC4, TEMP6, TEMP6B])
  })

  it('keeps global IPv6 beside IPv4 in every rank, and ranks ULA as LAN', () => {
    expect(pick([LOOP6, ULA6, LAN, PUBLIC6, LOOP4, PUBLIC4, CIRCUIT])).toEqual([
      CIRCUIT,
      PUBLIC6,
      PUBLIC4,
      ULA6,
      LAN,
      LOOP6,
      LOOP4,
    ])
  })

  it('leaves out IPv6 link-local addresses (they need a zone), but not fe8:: look-alikes', () => {
    const linkLocal = [
      '/ip6/fe80::1/tcp/4001',
      '/ip6/febf::1/tcp/1',
      '/ip6zone/eth0/ip6/fe80::2/tcp/1',
    ]
    expect(pick([...linkLocal, PUBLIC6])).toEqual([PUBLIC6])
    expect(pick(['/ip6/fe8::1/tcp/1'])).toEqual(['/ip6/fe8::1/tcp/1'])
    expect(pick(['/ip6/fec0::1/tcp/1']).length).toBe(1)
  })

  it('leaves DNS and other non-IP addresses in place', () => {
    const DNS = '/dns4/example.com/tcp/443/wss'
    expect(pick([PUBLIC4, DNS, PUBLIC4C, PUBLIC6])).toEqual([PUBLIC4, DNS, PUBLIC6, PUBLIC4C])
  })
})
