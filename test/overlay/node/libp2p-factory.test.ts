import { describe, expect, it } from 'vitest'
import { forLibdatachannel } from '../../../src/overlay/node/libp2p-factory.js'

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
})
