/**
 * Who gets TURN credentials (issue 11): real libp2p nodes on 127.0.0.1. The
 * supernode runs a circuit-relay server, so "attached" is a real relay
 * reservation; "device of a claimed name" is an in-memory directory standing
 * in for the DHT lookup the composition root wires. Anonymous peers and
 * impostors are refused with a message saying what to do, and issuance is
 * rate limited per peer and per name.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from '@libp2p/interface'
import {
  TurnCredentialsError,
  requestTurnCredentials,
} from '../../../src/overlay/turn/turn-credentials-protocol.js'
import type { TurnRefusal } from '../../../src/overlay/turn/turn-credentials-protocol.js'
import { turnCredentialsService } from '../../../src/overlay/turn/turn-credentials-service.js'
import type { TurnCredentialsService } from '../../../src/overlay/turn/turn-credentials-service.js'
import { recordListsDevice } from '../../../src/overlay/turn/turn-admission.js'
import type { DeviceOf, TurnIssueLimits } from '../../../src/overlay/turn/turn-admission.js'
import type { ContactRecord } from '../../../src/shared/records/contact-record.js'
import { loopbackLibp2p } from '../../helpers/loopback-libp2p.js'
import { connect, plainNode, testLog } from '../rpc/plain-libp2p.js'

type Supernode = Libp2p<{
  identify: unknown
  relay: CircuitRelayService
  turnCredentials: TurnCredentialsService
}>

const nodes: Libp2p[] = []
afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()))
})

/** name → peer IDs of its live devices: what the DHT lookup would answer. */
class Directory {
  readonly devices = new Map<string, Set<string>>()
  lookups = 0
  add(name: string, peerId: string): void {
    this.devices.set(name, (this.devices.get(name) ?? new Set()).add(peerId))
  }
  readonly deviceOf: DeviceOf = async (name, peerId) => {
    this.lookups++
    return this.devices.get(name)?.has(peerId) ?? false
  }
}

async function supernode(
  deviceOf: DeviceOf,
  limits?: TurnIssueLimits,
): Promise<{ node: Supernode; issuedTo: string[] }> {
  const issuedTo: string[] = []
  const node: Supernode = await createLibp2p({
    ...loopbackLibp2p(),
    services: {
      identify: identify(),
      relay: circuitRelayServer(),
      turnCredentials: turnCredentialsService({
        issue: (peer) => {
          issuedTo.push(peer)
          return {
            username: `1900000000:${peer}`,
            password: 'pw',
            realm: 'kaiwa',
            expiresAt: 1_900_000_000,
            urls: ['turn:127.0.0.1:3478'],
          }
        },
        deviceOf,
        // The wiring the composition root uses: the relay server's reservation store.
        isAttached: (peer) => node.services.relay.reservations.has(peerIdFromString(peer)),
        ...(limits != null ? { limits } : {}),
        log: testLog,
      }),
    },
  })
  nodes.push(node)
  return { node, issuedTo }
}

async function peer(server: Libp2p): Promise<Libp2p> {
  const client = await plainNode()
  nodes.push(client)
  await connect(client, server)
  return client
}

async function refusal(
  p: Promise<unknown>,
): Promise<TurnCredentialsError & { refusal: TurnRefusal }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(TurnCredentialsError)
  return err as TurnCredentialsError & { refusal: TurnRefusal }
}

describe('TURN credentials admission', () => {
  it('refuses an anonymous peer and an impostor, and says to claim a user ID', async () => {
    const dir = new Directory()
    const { node: server, issuedTo } = await supernode(dir.deviceOf)
    const alice = await peer(server)
    dir.add('alice', 'someone-else')

    const anonymous = await refusal(requestTurnCredentials(alice, server.peerId))
    expect(anonymous.refusal).toBe('not_admitted')
    expect(anonymous.code).toBe('unavailable')
    expect(anonymous.message).toMatch(/claim a user ID first \(kaiwa claim NAME/)
    expect(dir.lookups).toBe(0) // no name, nothing to look up

    const impostor = await refusal(requestTurnCredentials(alice, server.peerId, 'alice'))
    expect(impostor.refusal).toBe('not_admitted')
    expect(impostor.message).toContain('no live device of "alice"')
    expect(impostor.message).toContain('claim a user ID first')

    const malformed = await refusal(requestTurnCredentials(alice, server.peerId, 'NOT a name'))
    expect(malformed.refusal).toBe('invalid_request')
    expect(issuedTo).toEqual([])
  })

  it('issues to a device of a claimed name, for its own peer ID', async () => {
    const dir = new Directory()
    const { node: server } = await supernode(dir.deviceOf)
    const bob = await peer(server)
    dir.add('bob', bob.peerId.toString())
    const creds = await requestTurnCredentials(bob, server.peerId, 'bob')
    expect(creds.username).toBe(`1900000000:${bob.peerId.toString()}`)
    expect(creds.urls).toEqual(['turn:127.0.0.1:3478'])
  })

  it('issues to a client holding a relay reservation on it, without a name', async () => {
    const { node: server } = await supernode(async () => false)
    const client = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0', '/p2p-circuit'] },
      transports: [tcp(), circuitRelayTransport()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() },
    })
    nodes.push(client)
    await connect(client, server)
    const deadline = Date.now() + 10_000
    while (!server.services.relay.reservations.has(client.peerId)) {
      if (Date.now() > deadline) throw new Error('the client got no relay reservation in 10 s')
      await new Promise((r) => setTimeout(r, 50))
    }
    const creds = await requestTurnCredentials(client, server.peerId)
    expect(creds.username).toBe(`1900000000:${client.peerId.toString()}`)
  })

  it('limits requests per peer, refused ones included', async () => {
    const dir = new Directory()
    const { node: server, issuedTo } = await supernode(dir.deviceOf, {
      perPeer: { ratePerS: 0.001, burst: 3 },
    })
    const carol = await peer(server)
    dir.add('carol', carol.peerId.toString())
    await refusal(requestTurnCredentials(carol, server.peerId)) // no name: not admitted, 1 token
    await requestTurnCredentials(carol, server.peerId, 'carol')
    await requestTurnCredentials(carol, server.peerId, 'carol')
    const limited = await refusal(requestTurnCredentials(carol, server.peerId, 'carol'))
    expect(limited.refusal).toBe('rate_limited')
    expect(limited.message).toMatch(/wait a minute and try again/)
    expect(dir.lookups).toBe(2) // the limited request cost no lookup
    expect(issuedTo).toHaveLength(2)
    // Another peer still has its own bucket.
    const other = await peer(server)
    dir.add('carol', other.peerId.toString())
    await requestTurnCredentials(other, server.peerId, 'carol')
  })

  it('limits issuance per name, which impostors cannot drain', async () => {
    const dir = new Directory()
    const { node: server } = await supernode(dir.deviceOf, {
      perName: { ratePerS: 0.001, burst: 2 },
    })
    const [d1, d2, d3, mallory] = await Promise.all([1, 2, 3, 4].map(() => peer(server)))
    for (const d of [d1!, d2!, d3!]) dir.add('dave', d.peerId.toString())
    for (let i = 0; i < 5; i++) {
      expect((await refusal(requestTurnCredentials(mallory!, server.peerId, 'dave'))).refusal).toBe(
        'not_admitted',
      )
    }
    await requestTurnCredentials(d1!, server.peerId, 'dave')
    await requestTurnCredentials(d2!, server.peerId, 'dave')
    const limited = await refusal(requestTurnCredentials(d3!, server.peerId, 'dave'))
    expect(limited.refusal).toBe('rate_limited')
  })

  it('answers "unverified" when the name check does not finish in time', async () => {
    const hanging: DeviceOf = () => new Promise<boolean>(() => {}) // ignores its signal, too
    const { node: server } = await supernode(hanging, { checkTimeoutMs: 200 })
    const erin = await peer(server)
    const started = Date.now()
    const slow = await refusal(requestTurnCredentials(erin, server.peerId, 'erin'))
    expect(slow.refusal).toBe('unverified')
    expect(slow.message).toMatch(/try again shortly/)
    expect(Date.now() - started).toBeLessThan(3000)
  })
})

describe('recordListsDevice', () => {
  it('needs a live record listing the peer as a live device', async () => {
    const device = await plainNode()
    nodes.push(device)
    const now = 1_800_000_000_000
    const record = {
      name: 'frank',
      expiresAt: now + 60_000,
      devices: [{ peerId: device.peerId.toMultihash().bytes, addrs: [], expiresAt: now + 1000 }],
    } as unknown as ContactRecord
    const id = device.peerId.toString()
    expect(recordListsDevice(record, id, now)).toBe(true)
    expect(recordListsDevice(record, id, now + 1000)).toBe(false) // the device entry expired
    expect(recordListsDevice({ ...record, expiresAt: now } as ContactRecord, id, now)).toBe(false)
    expect(recordListsDevice(record, 'someone-else', now)).toBe(false)
    const garbled = {
      ...record,
      devices: [{ peerId: new Uint8Array([1, 2]), addrs: [], expiresAt: now + 1000 }],
    }
    expect(recordListsDevice(garbled as ContactRecord, id, now)).toBe(false)
  })
})
