import { describe, expect, it } from 'vitest'
import { connectionTransport } from '../../../src/main/api/node-api.js'

describe('connection transport', () => {
  it('tells direct, hole-punched and relayed connections apart', () => {
    expect(connectionTransport('/ip4/203.0.113.2/tcp/4001/p2p/12D3KooWa', false)).toBe('tcp')
    expect(
      connectionTransport(
        '/ip4/203.0.113.2/tcp/4001/p2p/12D3KooWa/p2p-circuit/p2p/12D3KooWb',
        true,
      ),
    ).toBe('relay')
    // The dialling side keeps the circuit in a hole-punched WebRTC connection's address.
    expect(
      connectionTransport(
        '/ip4/203.0.113.2/tcp/4001/p2p/12D3KooWa/p2p-circuit/webrtc/p2p/12D3KooWb',
        false,
      ),
    ).toBe('webrtc')
    expect(connectionTransport('/ip4/192.168.1.10/udp/40000/webrtc/p2p/12D3KooWb', false)).toBe(
      'webrtc',
    )
  })
})
