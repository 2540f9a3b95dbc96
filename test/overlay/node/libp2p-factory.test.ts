import { RTCPeerConnection } from 'node-datachannel/polyfill'
import { describe, expect, it } from 'vitest'
import { forLibdatachannel } from '../../../src/overlay/node/libp2p-factory.js'

/** What a dual-stack supernode hands out (TurnService.iceServers()). */
const DUAL = [
  { urls: ['stun:203.0.113.2:3478', 'stun:[2001:db8::2]:3478'] },
  {
    urls: ['turn:203.0.113.2:3478?transport=udp', 'turn:[2001:db8::2]:3478?transport=udp'],
    username: '1763700000:12D3KooWabc',
    credential: 'pw',
  },
]

describe('ICE servers for node-datachannel', () => {
  it('percent-encodes TURN REST usernames, whose ":" libdatachannel would split on', () => {
    const out = forLibdatachannel([
      { urls: ['stun:203.0.113.2:3478'] },
      { urls: ['turn:203.0.113.2:3478'], username: '1763700000:12D3KooWabc', credential: 'a/b+c=' },
    ])
    expect(out[0]).toEqual({ urls: ['stun:203.0.113.2:3478'] })
    expect(out[1]).toMatchObject({
      username: '1763700000%3A12D3KooWabc',
      credential: 'a%2Fb%2Bc%3D',
    })
  })

  it('never hands the polyfill an IPv6 literal, which libdatachannel 0.33 cannot parse', () => {
    // The regression: a dual-stack supernode's list breaks every RTCPeerConnection.
    expect(() => new RTCPeerConnection({ iceServers: DUAL })).toThrow(/port in URL/)
    const v4 = forLibdatachannel(DUAL, 4)
    expect(v4.flatMap((s) => s.urls)).toEqual([
      'stun:203.0.113.2:3478',
      'turn:203.0.113.2:3478?transport=udp',
    ])
    new RTCPeerConnection({ iceServers: v4 }).close()
    // An IPv6-only host: no usable server (its overlay links use host candidates; IPv6 has no NAT).
    expect(forLibdatachannel(DUAL, 6)).toEqual([])
    expect(forLibdatachannel([{ urls: 'stun:stun.example.org' }], 6)).toEqual([
      { urls: ['stun:stun.example.org'] },
    ])
  })
})
