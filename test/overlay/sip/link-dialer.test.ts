/**
 * LinkDialer: a peer's direct addresses raced against its relay path (issue 13
 * §6), with libp2p's connection and transport managers faked: a direct dial
 * that hangs (a NAT dropping our SYNs) must not hold the relay back, an
 * existing connection is used as is, and a connection another dialler opened
 * counts as success. The real libp2p path is covered by the NAT lab
 * (test/natlab/first-contact.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Connection, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  LinkDialer,
  WrongPeerError,
  splitAddrs,
  withPeer,
} from '../../../src/overlay/sip/link-dialer.js'
import type { LinkDialerComponents } from '../../../src/overlay/sip/link-dialer.js'
import { RaceFailedError } from '../../../src/overlay/sip/link-race.js'
import type { Logger } from '../../../src/shared/logger.js'

const newPeer = async (): Promise<PeerId> => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const RELAY = '12D3KooWBj7ezBh2m3JieD3s7ZZXuz6nQ6cuGNfYk3FbL5oVd4tm'

function fakeConn(peer: PeerId, addr: string, limited: boolean): Connection {
  return {
    id: `${addr}`,
    remotePeer: peer,
    remoteAddr: multiaddr(addr),
    status: 'open',
    limits: limited ? { bytes: 1n << 17n, seconds: 120 } : undefined,
    close: async () => {},
  } as unknown as Connection
}

/** A promise that only the abort signal ends (a SYN into a NAT that drops it). */
const hang = (signal?: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)))

interface Fakes extends LinkDialerComponents {
  calls: string[]
  conns: Connection[]
}

function fakes(over: {
  openConnection?: (target: unknown, signal?: AbortSignal) => Promise<Connection>
  dial?: (ma: Multiaddr, signal?: AbortSignal) => Promise<Connection>
  /** The peer store's addresses for any peer; none (unknown peer) by default. */
  stored?: string[]
}): Fakes {
  const f: Fakes = {
    calls: [],
    conns: [],
    peerStore: {
      get: async () => {
        if (over.stored == null) throw new Error('not found')
        return { addresses: over.stored.map((a) => ({ multiaddr: multiaddr(a) })) } as never
      },
    },
    connectionManager: {
      getConnections: () => f.conns,
      openConnection: async (target, opts) => {
        f.calls.push(`open ${String(target)}`)
        return (over.openConnection ?? ((_t, s) => hang(s)))(target, opts?.signal)
      },
    },
    transportManager: {
      dial: async (ma, opts) => {
        f.calls.push(`dial ${ma.toString()}`)
        return (over.dial ?? ((_m, s) => hang(s)))(ma, opts?.signal)
      },
    },
  }
  return f
}

const log: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => log,
}

describe('splitAddrs / withPeer', () => {
  it('sorts record addresses into direct, relay and WebRTC', () => {
    const addrs = [
      `/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit/webrtc`,
      `/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`,
      '/ip4/203.0.113.14/tcp/40000',
      '/ip4/192.168.1.10/tcp/40000',
    ].map((a) => multiaddr(a))
    const s = splitAddrs(addrs)
    expect(s.webrtc).toEqual([addrs[0]])
    expect(s.relay).toEqual([addrs[1]])
    expect(s.direct).toEqual([addrs[2], addrs[3]])
  })

  it('ends every address in the peer it must reach, once', async () => {
    const peer = await newPeer()
    const circuit = multiaddr(`/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`)
    expect(withPeer(circuit, peer).toString()).toBe(`${circuit.toString()}/p2p/${peer.toString()}`)
    const done = withPeer(circuit, peer)
    expect(withPeer(done, peer)).toBe(done)
  })
})

describe('LinkDialer (RFC 8305 race of direct and relay)', () => {
  it('does not wait for a direct dial that hangs: the relay, one attempt delay later, wins', async () => {
    const peer = await newPeer()
    const relayed = fakeConn(peer, `/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`, true)
    const f = fakes({ dial: async () => relayed })
    const dialer = new LinkDialer(f, { log, attemptDelayMs: 50 })
    const t0 = performance.now()
    const conn = await dialer.connect(peer, [
      multiaddr('/ip4/203.0.113.14/tcp/40000'),
      multiaddr(`/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`),
    ])
    expect(conn).toBe(relayed)
    expect(performance.now() - t0).toBeLessThan(1_000)
    expect(f.calls[0]).toMatch(/^open /)
    // Past the dial queue, to the peer through the relay.
    expect(f.calls[1]).toBe(
      `dial /ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit/p2p/${peer.toString()}`,
    )
  })

  it('hands over a direct connection that comes up after the relay won (the upgrade)', async () => {
    const peer = await newPeer()
    const relayed = fakeConn(peer, `/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`, true)
    const direct = fakeConn(peer, '/ip4/203.0.113.14/tcp/40000', false)
    let releaseDirect = (): void => {}
    const f = fakes({
      openConnection: () => new Promise((r) => (releaseDirect = () => r(direct))),
      dial: async () => relayed,
    })
    const upgraded: Connection[] = []
    const conn = await new LinkDialer(f, { log, attemptDelayMs: 10 }).connect(
      peer,
      [
        multiaddr('/ip4/203.0.113.14/tcp/40000'),
        multiaddr(`/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`),
      ],
      { onDirect: (c) => upgraded.push(c) },
    )
    expect(conn).toBe(relayed)
    releaseDirect()
    await new Promise((r) => setTimeout(r, 0))
    expect(upgraded).toEqual([direct])
  })

  it('uses an open connection without dialling, a direct one before a relayed one', async () => {
    const peer = await newPeer()
    const f = fakes({})
    const relayed = fakeConn(peer, `/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`, true)
    const direct = fakeConn(peer, '/ip4/203.0.113.14/tcp/40000', false)
    f.conns.push(relayed, direct)
    expect(await new LinkDialer(f, { log }).connect(peer, [])).toBe(direct)
    expect(f.calls).toEqual([])
  })

  it('takes the connection another dialler opened when its own dial is refused as a duplicate', async () => {
    const peer = await newPeer()
    const theirs = fakeConn(peer, `/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`, true)
    const f = fakes({
      dial: async () => {
        f.conns.push(theirs)
        throw new Error('Duplicate multiaddr connection')
      },
    })
    const conn = await new LinkDialer(f, { log }).connect(peer, [
      multiaddr(`/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`),
    ])
    expect(conn).toBe(theirs)
  })

  it('refuses a connection that answers as another peer, and says so', async () => {
    const peer = await newPeer()
    const other = await newPeer()
    const f = fakes({
      dial: async (ma) => fakeConn(other, ma.toString(), true),
    })
    const err = await new LinkDialer(f, { log })
      .connect(peer, [multiaddr(`/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`)])
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RaceFailedError)
    expect((err as RaceFailedError).errors[0]!.error).toBeInstanceOf(WrongPeerError)
  })

  it('falls back to libp2p (peer store, routing) when the record lists no address', async () => {
    const peer = await newPeer()
    const found = fakeConn(peer, '/ip4/203.0.113.14/tcp/40000', false)
    const f = fakes({ openConnection: async () => found })
    expect(await new LinkDialer(f, { log }).connect(peer, [])).toBe(found)
    expect(f.calls).toEqual([`open ${peer.toString()}`])
  })

  it('races the peer store’s addresses when the caller has none (a link reopened after a roam)', async () => {
    const peer = await newPeer()
    const circuit = `/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`
    const relayed = fakeConn(peer, circuit, true)
    // The stored direct address is dead (the peer, or we, moved): its dial hangs.
    const f = fakes({ dial: async () => relayed, stored: ['/ip4/192.168.2.10/tcp/40000', circuit] })
    const t0 = performance.now()
    expect(await new LinkDialer(f, { log, attemptDelayMs: 50 }).connect(peer, [])).toBe(relayed)
    expect(performance.now() - t0).toBeLessThan(1_000)
    expect(f.calls).toEqual([
      `open /ip4/192.168.2.10/tcp/40000/p2p/${peer.toString()}`,
      `dial ${circuit}/p2p/${peer.toString()}`,
    ])
  })

  it('gives up with the caller: an aborted open ends every attempt', async () => {
    const peer = await newPeer()
    const f = fakes({})
    const ctl = new AbortController()
    const pending = new LinkDialer(f, { log, attemptDelayMs: 5 }).connect(
      peer,
      [
        multiaddr('/ip4/203.0.113.14/tcp/40000'),
        multiaddr(`/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`),
      ],
      { signal: ctl.signal },
    )
    setTimeout(() => ctl.abort(new Error('link open timeout')), 30)
    await expect(pending).rejects.toThrow('link open timeout')
  })
})
