/**
 * The role a node takes: `on`/`off` as told; `auto` (opted in) starts as a
 * client and serves when publicly reachable or elected, but never founds a
 * network on its own: that is `on`'s explicit act.
 * The pure rules, then real `auto` nodes on loopback.
 */
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import {
  hasPublicAddress,
  initialRole,
  reachability,
} from '../../../src/overlay/node/role-policy.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startTestNode, tcpAddr, waitFor, dhtServers } from '../../helpers/nodes.js'

const RELAY = '12D3KooWKKZJu4J7Jg8ex6y22Hg95HZZEpCGvVVhinFKsFKGjXpR'
const ma = (...addrs: string[]) => addrs.map((a) => multiaddr(a))

describe('initialRole', () => {
  it.each([
    ['on', 'supernode'],
    ['off', 'client'],
    ['auto', 'client'],
  ] as const)('%s -> %s', (mode, role) => {
    expect(initialRole(mode)).toBe(role)
  })
})

describe('hasPublicAddress', () => {
  it('is false with no addresses', () => {
    expect(hasPublicAddress([])).toBe(false)
  })

  it('is false for loopback, LAN, link-local, CGNAT and unspecified addresses', () => {
    expect(
      hasPublicAddress(
        ma(
          '/ip4/127.0.0.1/tcp/1',
          '/ip4/0.0.0.0/tcp/1',
          '/ip4/192.168.1.2/tcp/1',
          '/ip4/10.0.0.1/tcp/1',
          '/ip4/172.16.5.5/tcp/1',
          '/ip4/169.254.1.1/tcp/1',
          '/ip4/100.64.0.1/tcp/1',
          '/ip6/::1/tcp/1',
          '/ip6/fe80::1/tcp/1',
          '/ip6/fd00::1/tcp/1',
        ),
      ),
    ).toBe(false)
  })

  it('does not count a relay address, even through a public relay', () => {
    expect(hasPublicAddress(ma(`/ip4/203.0.113.5/tcp/4001/p2p/${RELAY}/p2p-circuit`))).toBe(false)
  })

  it('is true when one direct address is public (IPv4, IPv6, webrtc-direct)', () => {
    expect(hasPublicAddress(ma('/ip4/127.0.0.1/tcp/1', '/ip4/8.8.8.8/tcp/4001'))).toBe(true)
    expect(hasPublicAddress(ma('/ip6/2606:4700::1/tcp/4001'))).toBe(true)
    expect(hasPublicAddress(ma('/ip4/8.8.8.8/udp/4001/webrtc-direct'))).toBe(true)
  })
})

describe('reachability', () => {
  const circuit = `/ip4/203.0.113.5/tcp/4001/p2p/${RELAY}/p2p-circuit`

  it('is public with a public direct address, whatever the role', () => {
    for (const role of ['client', 'supernode'] as const) {
      expect(reachability(role, ma('/ip4/8.8.8.8/tcp/1', circuit))).toBe('public')
    }
  })

  it('is private for a node reachable only through a relay', () => {
    for (const role of ['client', 'supernode'] as const) {
      expect(reachability(role, ma('/ip4/192.168.1.2/tcp/1', circuit))).toBe('private')
    }
  })

  it('is unknown for a supernode with only private addresses, private for such a client', () => {
    expect(reachability('supernode', ma('/ip4/127.0.0.1/tcp/1'))).toBe('unknown')
    expect(reachability('supernode', [])).toBe('unknown')
    expect(reachability('client', ma('/ip4/127.0.0.1/tcp/1'))).toBe('private')
  })
})

describe('supernode: auto on real nodes', () => {
  const nodes: KaiwaNode[] = []
  afterEach(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()))
    await Promise.allSettled(nodes.map((n) => rm(n.dataDir, { recursive: true, force: true })))
    nodes.length = 0
  })

  it('keeps a lone auto node a client: it waits for a network instead of founding one', async () => {
    const lone = await startTestNode({ supernode: 'auto' })
    nodes.push(lone)
    expect(lone.role()).toBe('client')
    lone.election.soon()
    await new Promise((r) => setTimeout(r, 500))
    expect(lone.role()).toBe('client')
    const status = await lone.api.status({})
    expect(status).toMatchObject({ role: 'client', supernodeMode: 'auto', supernodes: [] })
  })

  it('makes the first node of a network (--supernode on) a supernode that works alone', async () => {
    const first = await startTestNode({ supernode: 'on' })
    nodes.push(first)
    expect(first.role()).toBe('supernode')
    expect(first.libp2p().services.dht.getMode()).toBe('server')

    const claimed = await first.claim('founder')
    expect(claimed.record.name).toBe('founder')
    expect(claimed.stored).toBe(1) // itself: nobody else is there
    const found = await first.directory.lookup('founder', { fresh: true })
    expect(found?.record.name).toBe('founder')
    expect(found!.record.devices[0]!.peerId).toEqual(first.libp2p().peerId.toMultihash().bytes)

    const status = await first.api.status({})
    expect(status).toMatchObject({ role: 'supernode', supernodeMode: 'on', name: 'founder' })
    expect(status.recordsHeld).toBe(1)
  })

  it('makes an auto node with a bootstrap peer a client (loopback is not public)', async () => {
    const first = await startTestNode({ supernode: 'on' })
    nodes.push(first)
    const second = await startTestNode({ supernode: 'auto', bootstrap: [tcpAddr(first)] })
    nodes.push(second)
    expect(second.role()).toBe('client')
    expect(second.libp2p().services.dht.getMode()).toBe('client')
    await waitFor(() => dhtServers(second) >= 1, 10_000, 'the client to see the supernode')

    await first.claim('founder')
    const found = await second.directory.lookup('founder', { fresh: true })
    expect(found?.record.name).toBe('founder')
    expect(second.role()).toBe('client') // still a client: no public address appeared
  })
})
