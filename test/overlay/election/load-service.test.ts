/**
 * loadService as a real libp2p service: mounted through `services` on one
 * node, asked from another over TCP/Noise/Yamux on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Libp2p } from '@libp2p/interface'
import { LOAD_PROTOCOL, requestLoad } from '../../../src/overlay/election/load-protocol.js'
import { loadService } from '../../../src/overlay/election/load-service.js'
import type { LoadService } from '../../../src/overlay/election/load-service.js'
import { connect, plainNode, testLog } from '../rpc/plain-libp2p.js'

const nodes: Libp2p[] = []

afterEach(async () => {
  await Promise.allSettled(nodes.splice(0).map((n) => n.stop()))
})

describe('loadService', () => {
  it('answers load requests while started and unregisters on node.stop()', async () => {
    const asked: Array<[string, boolean]> = []
    let serving = true
    const server = await plainNode<{ load: LoadService }>({
      load: loadService({
        report: () => ({
          clients: 3,
          candidates: 1,
          target: 200,
          steppingDown: false,
          at: Date.now(),
        }),
        onAsked: (peer, candidate) => asked.push([peer, candidate]),
        isServing: () => serving,
        log: testLog,
      }),
    })
    const client = await plainNode()
    nodes.push(server, client)
    expect(server.services.load.isStarted()).toBe(true)
    expect(server.getProtocols()).toContain(LOAD_PROTOCOL)
    await connect(client, server)

    const report = await requestLoad(client, server.peerId, true)
    expect(report).toMatchObject({ clients: 3, candidates: 1, target: 200, steppingDown: false })
    expect(asked).toEqual([[client.peerId.toString(), true]])

    // Not serving: the stream is aborted and nothing is counted.
    serving = false
    await expect(requestLoad(client, server.peerId, false)).rejects.toThrow()
    expect(asked).toHaveLength(1)

    await server.stop()
    expect(server.services.load.isStarted()).toBe(false)
    expect(server.getProtocols()).not.toContain(LOAD_PROTOCOL)
  })
})
