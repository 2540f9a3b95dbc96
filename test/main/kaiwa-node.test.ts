/**
 * A node whose start-up fails part-way (here: its --name is taken) must not
 * leave anything running: no libp2p node, no open data directory.
 */
import { rm } from 'node:fs/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { NameTakenError } from '../../src/shared/errors.js'
import type { KaiwaNode } from '../../src/main/kaiwa-node.js'
import { startTestNode, tcpAddr, tempDir, waitFor } from '../helpers/nodes.js'

const nodes: KaiwaNode[] = []
const dirs: string[] = []

afterEach(async () => {
  await Promise.allSettled(nodes.map((n) => n.stop()))
  nodes.length = 0
  await Promise.allSettled(dirs.map((d) => rm(d, { recursive: true, force: true })))
  dirs.length = 0
})

describe('startKaiwaNode', () => {
  it('stops what it started when claiming --name fails', async () => {
    const supernode = await startTestNode({ supernode: 'on', name: 'taken-name' })
    nodes.push(supernode)
    dirs.push(supernode.dataDir)
    const dataDir = await tempDir()
    dirs.push(dataDir)

    const err = await startTestNode({
      dataDir,
      bootstrap: [tcpAddr(supernode)],
      name: 'taken-name',
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NameTakenError)

    // The failed node hung up: its libp2p node was stopped, not just abandoned.
    await waitFor(
      () => supernode.libp2p().getConnections().length === 0,
      5_000,
      'the failed node to close its connection to the supernode',
    )
    // And released its data directory: the same identity starts again.
    const again = await startTestNode({ dataDir, bootstrap: [tcpAddr(supernode)] })
    nodes.push(again)
    expect((await again.claim('free-name')).record.name).toBe('free-name')
  })
})
