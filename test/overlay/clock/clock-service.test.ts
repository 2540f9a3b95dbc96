/**
 * clockService between real libp2p nodes (TCP/Noise/Yamux on 127.0.0.1, with
 * identify so peers learn who answers `/kaiwa/time/1.0.0`). One node's clock
 * is shifted through the injectable `now`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p } from '@libp2p/interface'
import { clockService } from '../../../src/overlay/clock/clock-service.js'
import type { ClockService, ClockServiceInit } from '../../../src/overlay/clock/clock-service.js'
import { ClockSignatureError } from '../../../src/overlay/clock/clock-protocol.js'
import { serveCborRpc } from '../../../src/overlay/rpc/cbor-rpc.js'
import type { CborMap } from '../../../src/overlay/rpc/cbor-rpc.js'
import {
  CLOCK_PROTOCOL,
  ClockWireError,
  clockSignedBytes,
} from '../../../src/shared/clock/clock-wire.js'
import { CborRpcError } from '../../../src/overlay/rpc/cbor-rpc.js'
import type { Logger } from '../../../src/shared/logger.js'
import { connect, plainNode, testLog } from '../rpc/plain-libp2p.js'

const MIN = 60_000
const nodes: Libp2p[] = []

afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()))
})

type ClockNode = Libp2p<{ identify: Identify; clock: ClockService }>

async function clockNode(init: Partial<ClockServiceInit> = {}): Promise<ClockNode> {
  const node = await plainNode<{ identify: Identify; clock: ClockService }>({
    identify: identify(),
    clock: clockService({ log: testLog, firstSampleDelayMs: 0, ...init }),
  })
  nodes.push(node)
  return node
}

/** A logger that keeps warnings, to check what the user's log says. */
function warnings(): Logger & { lines: string[] } {
  const lines: string[] = []
  const log: Logger & { lines: string[] } = {
    ...testLog,
    lines,
    warn: (m) => lines.push(m),
    child: () => log,
  }
  return log
}

describe('clockService', () => {
  it('measures peers that announce the protocol; a node 7 min fast sees warn, the others +7 min', async () => {
    const log = warnings()
    const s1 = await clockNode()
    const s2 = await clockNode()
    const fast = await clockNode({ now: () => Date.now() + 7 * MIN, log })
    // A client: measures, does not answer (and so is not measured).
    const client = await clockNode({ answer: false })
    expect(s1.getProtocols()).toContain(CLOCK_PROTOCOL)
    expect(client.getProtocols()).not.toContain(CLOCK_PROTOCOL)
    await connect(fast, s1)
    await connect(fast, s2)
    await connect(client, s1)
    await connect(client, fast)

    // Identify announces the protocol; each node measures soon after.
    await expect.poll(() => fast.services.clock.offsets().length, { timeout: 10_000 }).toBe(2)
    await expect.poll(() => client.services.clock.offsets().length, { timeout: 10_000 }).toBe(2)
    await expect
      .poll(() => s1.services.clock.peerOffset(fast.peerId), { timeout: 10_000 })
      .toBeDefined()

    expect(s1.services.clock.peerOffset(fast.peerId)).toBeGreaterThan(7 * MIN - 1000)
    expect(s1.services.clock.peerOffset(fast.peerId)).toBeLessThan(7 * MIN + 1000)
    expect(Math.abs(client.services.clock.peerOffset(s1.peerId)!)).toBeLessThan(1000)
    expect(s1.services.clock.isTooSkewed(fast.peerId)).toBe(false)
    // The client never measured itself as a server, and s1 never measured the client.
    expect(s1.services.clock.peerOffset(client.peerId)).toBeUndefined()

    const own = fast.services.clock.ownSkew()
    expect(own.state).toBe('warn')
    expect(own.samples).toBe(2)
    expect(own.offsetMs).toBeGreaterThan(7 * MIN - 1000)
    expect(own.offsetMs).toBeLessThan(7 * MIN + 1000)
    expect(own.message).toContain('Your clock is 7 min fast compared with the network')
    expect(own.message).toContain('turn on automatic time (NTP) in your system settings')
    expect(log.lines.some((l) => l.includes('Your clock is 7 min fast'))).toBe(true)

    // Two servers, one 7 min fast: the median is 3.5 min off. A third honest
    // one makes the median honest again (the fast node is outvoted).
    await connect(client, s2)
    await expect.poll(() => client.services.clock.offsets().length, { timeout: 10_000 }).toBe(3)
    expect(client.services.clock.ownSkew().state).toBe('ok')

    // Each sample carries the evidence: the server's signature over the exchange.
    const sample = client.services.clock.offsets().find((s) => s.peer === s1.peerId.toString())!
    const signed = clockSignedBytes(client.peerId.toString(), sample.nonce, sample.t1, sample.t2)
    expect(await s1.peerId.publicKey!.verify(signed, sample.sig)).toBe(true)
  })

  it('flags a peer 7 h off as too skewed and logs why', async () => {
    const log = warnings()
    const observer = await clockNode({ log, firstSampleDelayMs: 60_000 })
    const late = await clockNode({
      now: () => Date.now() - 7 * 60 * MIN,
      firstSampleDelayMs: 60_000,
    })
    await connect(observer, late)
    const sample = await observer.services.clock.measure(late.peerId)
    expect(sample.offsetMs).toBeLessThan(-7 * 60 * MIN + 1000)
    expect(observer.services.clock.isTooSkewed(late.peerId)).toBe(true)
    expect(observer.services.clock.isTooSkewed(late.peerId.toString())).toBe(true)
    expect(log.lines.join('\n')).toMatch(/peer .* is 7 h behind this node .*refused/)
    // The late node itself: the network is 7 h ahead of it.
    await late.services.clock.measure(observer.peerId)
    const own = late.services.clock.ownSkew()
    expect(own.state).toBe('warn')
    expect(own.message).toContain('7 h slow')
    expect(own.message).toContain('other nodes refuse calls')
  })

  it('refuses forged, replayed and garbled replies and keeps nothing from them', async () => {
    const asker = await clockNode({ answer: false, firstSampleDelayMs: 60_000 })
    const otherKey = await generateKeyPair('Ed25519')
    let reply: (req: CborMap, peer: string) => Promise<CborMap> = async () => ({})
    const liar = await plainNode()
    nodes.push(liar)
    await serveCborRpc(liar, {
      protocol: CLOCK_PROTOCOL,
      maxMessageBytes: 1024,
      maxInboundStreams: 4,
      handler: (req, { peer }) => reply(req, peer.toString()),
    })
    await connect(asker, liar)
    const now = Date.now()
    const measure = () => asker.services.clock.measure(liar.peerId)

    // Signed by a key that is not the peer's (a relay or impostor forging the time).
    reply = async (req, peer) => {
      const nonce = req.nonce as Uint8Array
      const sig = await otherKey.sign(clockSignedBytes(peer, nonce, now, now))
      return { v: 1, nonce, t1: now, t2: now, sig }
    }
    await expect(measure()).rejects.toBeInstanceOf(ClockSignatureError)

    // Wrong nonce: a replay of an older answer.
    reply = async () => ({
      v: 1,
      nonce: new Uint8Array(16),
      t1: now,
      t2: now,
      sig: new Uint8Array(64),
    })
    await expect(measure()).rejects.toBeInstanceOf(ClockWireError)

    // Garbled fields.
    reply = async (req) => ({
      v: 1,
      nonce: req.nonce,
      t1: 'soon',
      t2: now,
      sig: new Uint8Array(64),
    })
    await expect(measure()).rejects.toBeInstanceOf(ClockWireError)
    reply = async (req) => ({ v: 2, nonce: req.nonce, t1: now, t2: now, sig: new Uint8Array(64) })
    await expect(measure()).rejects.toBeInstanceOf(ClockWireError)
    reply = async (req) => ({ v: 1, nonce: req.nonce, t1: now, t2: now, sig: new Uint8Array(3) })
    await expect(measure()).rejects.toBeInstanceOf(ClockSignatureError)

    // A handler that throws: the stream is aborted.
    reply = async () => {
      throw new Error('no')
    }
    await expect(measure()).rejects.toBeInstanceOf(CborRpcError)

    expect(asker.services.clock.peerOffset(liar.peerId)).toBeUndefined()
    expect(asker.services.clock.offsets()).toEqual([])
    expect(asker.services.clock.ownSkew().state).toBe('unknown')
  })

  it('unregisters the protocol on stop', async () => {
    const node = await clockNode()
    expect(node.getProtocols()).toContain(CLOCK_PROTOCOL)
    await node.stop()
    expect(node.getProtocols()).not.toContain(CLOCK_PROTOCOL)
  })
})
