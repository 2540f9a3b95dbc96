/**
 * What a dual-stack supernode announces: STUN/TURN URLs for both families, an IPv6 literal in
 * brackets (RFC 3986 §3.2.2, as RFC 7064/7065 URIs require), and where a TURN server on a given
 * host also listens for IPv6 clients (turnListen6).
 */
import { describe, expect, it } from 'vitest'
import { parseIceUrl } from '../../../src/overlay/media/ice-servers.js'
import { hostPort, turnListen6, turnUrls } from '../../../src/overlay/turn/turn-service.js'

const info = (address: string, internal = false) =>
  ({ address, family: address.includes(':') ? 'IPv6' : 'IPv4', internal }) as never
const lo = [info('127.0.0.1', true), info('::1', true)]

describe('STUN/TURN URLs of a dual-stack supernode', () => {
  it('lists IPv4 then IPv6, UDP and TCP, with the IPv6 literal in brackets', () => {
    expect(turnUrls(['203.0.113.2', '2001:db8::2'], 3478)).toEqual([
      'stun:203.0.113.2:3478',
      'turn:203.0.113.2:3478?transport=udp',
      'turn:203.0.113.2:3478?transport=tcp',
      'stun:[2001:db8::2]:3478',
      'turn:[2001:db8::2]:3478?transport=udp',
      'turn:[2001:db8::2]:3478?transport=tcp',
    ])
    expect(hostPort('::1', 1)).toBe('[::1]:1')
    expect(hostPort('127.0.0.1', 1)).toBe('127.0.0.1:1')
  })

  it('gives URLs that read back as the same host and port', () => {
    for (const u of turnUrls(['2001:db8::2'], 26001)) {
      expect(parseIceUrl(u)).toMatchObject({ host: '2001:db8::2', port: 26001 })
    }
  })
})

describe('where TURN listens for IPv6 clients (turnListen6)', () => {
  it('on :: beside 0.0.0.0 when the host has a global or unique-local IPv6 address', () => {
    expect(turnListen6('0.0.0.0', { lo, eth0: [info('192.0.2.4'), info('2001:db8::4')] })).toBe(
      '::',
    )
    expect(turnListen6('0.0.0.0', { lo, eth0: [info('fd00::4')] })).toBe('::')
  })

  it('nowhere on an IPv4-only host (link-local IPv6 does not count), nor for one address', () => {
    expect(turnListen6('0.0.0.0', { lo, eth0: [info('192.0.2.4'), info('fe80::1')] })).toBe(
      undefined,
    )
    const dual = { lo, eth0: [info('192.0.2.4'), info('2001:db8::4')] }
    expect(turnListen6('192.0.2.4', dual)).toBeUndefined()
    // A one-machine network (the demo, the tests) stays on 127.0.0.1.
    expect(turnListen6('127.0.0.1', dual)).toBeUndefined()
  })
})
