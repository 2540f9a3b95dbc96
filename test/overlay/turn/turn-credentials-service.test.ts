/**
 * turnCredentialsService as a real libp2p service: mounted through `services`
 * on one node, asked from another over TCP/Noise/Yamux on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Libp2p } from '@libp2p/interface'
import {
  TURN_CREDENTIALS_PROTOCOL,
  TurnCredentialsError,
  requestTurnCredentials,
} from '../../../src/overlay/turn/turn-credentials-protocol.js'
import { turnCredentialsService } from '../../../src/overlay/turn/turn-credentials-service.js'
import type { TurnCredentialsService } from '../../../src/overlay/turn/turn-credentials-service.js'
import { connect, plainNode, testLog } from '../rpc/plain-libp2p.js'

const nodes: Libp2p[] = []

afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()))
})

describe('turnCredentialsService', () => {
  it('issues credentials to the asking peer, refuses when not serving, unregisters on stop', async () => {
    let serving = true
    const server = await plainNode<{ turnCredentials: TurnCredentialsService }>({
      turnCredentials: turnCredentialsService({
        issue: (peer) => ({
          username: `1900000000:${peer}`,
          password: 'pw',
          realm: 'kaiwa',
          expiresAt: 1_900_000_000,
          urls: ['turn:127.0.0.1:3478'],
        }),
        deviceOf: async () => false,
        isAttached: () => true,
        isServing: () => serving,
        log: testLog,
      }),
    })
    const client = await plainNode()
    nodes.push(server, client)
    expect(server.getProtocols()).toContain(TURN_CREDENTIALS_PROTOCOL)
    await connect(client, server)

    const creds = await requestTurnCredentials(client, server.peerId)
    expect(creds).toEqual({
      username: `1900000000:${client.peerId.toString()}`,
      password: 'pw',
      realm: 'kaiwa',
      expiresAt: 1_900_000_000,
      urls: ['turn:127.0.0.1:3478'],
    })

    serving = false
    await expect(requestTurnCredentials(client, server.peerId)).rejects.toBeInstanceOf(
      TurnCredentialsError,
    )

    await server.stop()
    expect(server.services.turnCredentials.isStarted()).toBe(false)
    expect(server.getProtocols()).not.toContain(TURN_CREDENTIALS_PROTOCOL)
  })
})
