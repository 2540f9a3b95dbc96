import { multiaddr } from '@multiformats/multiaddr'
import { describe, expect, it } from 'vitest'
import { dialable } from '../../../src/main/api/invite-api.js'

describe("an invite's supernode addresses", () => {
  it('keep the port-443 bridge (right after plain TCP), and drop circuits and plain WebSocket', () => {
    const addrs = [
      '/ip4/127.0.0.1/tcp/4001',
      '/ip4/192.168.1.5/tcp/4001',
      '/ip4/93.184.216.34/tcp/443/tls/ws',
      '/ip4/93.184.216.34/tcp/4001',
      '/ip4/93.184.216.34/tcp/4002/ws',
      '/ip4/93.184.216.34/tcp/4001/p2p/12D3KooWRelay/p2p-circuit',
      '/ip4/93.184.216.34/udp/4001/webrtc-direct',
    ].map((a) => multiaddr(a))
    expect(dialable(addrs).map(String)).toEqual([
      '/ip4/93.184.216.34/tcp/4001',
      '/ip4/93.184.216.34/tcp/443/tls/ws',
      '/ip4/192.168.1.5/tcp/4001',
      '/ip4/127.0.0.1/tcp/4001',
    ])
  })
})
