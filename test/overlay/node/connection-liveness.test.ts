/**
 * Roaming (issue 13 §8): after an address change every connection is pinged
 * at once; the ones that do not answer are closed so that their owners re-make
 * them from the new address. Real libp2p nodes on loopback: one answers ping,
 * one does not speak ping at all (multistream-select still answered: alive),
 * and a hostile one accepts the ping stream and never echoes (dead).
 */
import { ping } from '@libp2p/ping'
import type { Libp2p } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  PING_PROTOCOL,
  dropDeadConnections,
} from '../../../src/overlay/node/connection-liveness.js'
import { silentLogger } from '../../helpers/logger.js'
import { connect, plainNode } from '../rpc/plain-libp2p.js'

describe('dropDeadConnections', () => {
  let me: Libp2p
  let pinger: Libp2p
  let mute: Libp2p
  let silent: Libp2p

  beforeAll(async () => {
    me = await plainNode({ ping: ping() })
    pinger = await plainNode({ ping: ping() })
    mute = await plainNode()
    silent = await plainNode()
    // Takes the ping stream and never answers: what a vanished path looks like from here.
    await silent.handle(PING_PROTOCOL, () => {}, { runOnLimitedConnection: true })
    for (const n of [pinger, mute, silent]) await connect(me, n)
  })

  afterAll(async () => {
    await Promise.all([me, pinger, mute, silent].map((n) => n?.stop()))
  })

  it('closes only the connection that does not answer within the deadline', async () => {
    const t0 = performance.now()
    const dead = await dropDeadConnections(me.getConnections(), {
      log: silentLogger,
      timeoutMs: 800,
    })
    const ms = performance.now() - t0
    expect(dead.map((c) => c.remotePeer.toString())).toEqual([silent.peerId.toString()])
    expect(ms).toBeLessThan(5_000)
    const open = me
      .getConnections()
      .filter((c) => c.status === 'open')
      .map((c) => c.remotePeer.toString())
    expect(open.sort()).toEqual([pinger.peerId.toString(), mute.peerId.toString()].sort())
  })

  it('does nothing when every connection answers', async () => {
    const dead = await dropDeadConnections(me.getConnections(), { log: silentLogger })
    expect(dead).toEqual([])
  })
})
