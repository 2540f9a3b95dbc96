/**
 * A name claimed at start-up with nowhere to store it yet (pending-claim.ts):
 * real nodes on loopback with no supernode and no bootstrap peer, as on a LAN
 * with no route out. Alone, the node keeps the name pending instead of
 * failing; once a LAN peer is there the name is claimed on the LAN, where
 * the peer resolves it. A name another LAN peer holds is refused as before.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { NameTakenError } from '../../../src/shared/errors.js'
import type { Logger } from '../../../src/shared/logger.js'
import { lanPeerCount } from '../../../src/overlay/names/lan-scope.js'
import { PendingClaim } from '../../../src/overlay/names/pending-claim.js'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { startTestNode, waitFor } from '../../helpers/nodes.js'

/** A logger that keeps its lines, to check what the user is told. */
function recordingLogger(lines: string[]): Logger {
  const log: Logger = {
    debug: () => {},
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    child: () => log,
  }
  return log
}

describe('a name claimed at start-up with no supernode', () => {
  const nodes: KaiwaNode[] = []
  const claims: PendingClaim[] = []
  afterAll(async () => {
    for (const c of claims) c.stop()
    await Promise.all(nodes.map((n) => n.stop()))
  })

  const pendingClaim = (node: KaiwaNode, lines: string[]) => {
    const c = new PendingClaim({
      claim: (name) => node.claim(name),
      scope: () => node.directory.scope(),
      claimedName: async () => (await node.settings.get()).name,
      log: recordingLogger(lines),
      pollMs: 200,
      retryMs: 1000,
    })
    claims.push(c)
    return c
  }

  const lanPeers = async (a: KaiwaNode, b: KaiwaNode) => {
    await a.libp2p().dial(b.addrs()[0]!)
    await waitFor(
      () => lanPeerCount(a.libp2p()) >= 1 && lanPeerCount(b.libp2p()) >= 1,
      15_000,
      'the two nodes to see each other as LAN peers',
    )
  }

  it('stays pending alone, then is claimed on the LAN once a peer is there', async () => {
    const alice = await startTestNode()
    nodes.push(alice)
    const lines: string[] = []
    const claim = pendingClaim(alice, lines)
    expect(await claim.start('alice')).toBe('pending')
    expect(claim.pending).toBe('alice')
    expect(lines.join('\n')).toMatch(/warn "alice" is not claimed yet: .* It stays pending/)
    expect((await alice.settings.get()).name).toBeNull()

    const bob = await startTestNode()
    nodes.push(bob)
    await lanPeers(alice, bob)
    await waitFor(() => claim.pending == null, 60_000, 'the pending name to be claimed')
    expect(lines.join('\n')).toContain('info claimed the pending name "alice" (LAN, held by 2)')
    expect((await alice.settings.get()).name).toBe('alice')
    const found = await bob.directory.lookup('alice', { fresh: true })
    expect(found?.scope).toBe('lan')
    expect(found?.record.publicKey).toEqual(alice.identity.accountKey.publicKey.raw)
  }, 120_000)

  it('still refuses at once a name another LAN peer holds', async () => {
    const carol = await startTestNode()
    nodes.push(carol)
    await lanPeers(carol, nodes[0]!)
    const lines: string[] = []
    await expect(pendingClaim(carol, lines).start('alice')).rejects.toThrow(NameTakenError)
    expect(lines).toEqual([])
  }, 60_000)

  it('kaiwa node --name alone starts with the name pending, and claims it once a LAN peer is there', async () => {
    // The composition root's path (kaiwa-node.ts): a start-up name never fails the start for
    // want of a peer to store it.
    const dave = await startTestNode({ name: 'dave' })
    nodes.push(dave)
    expect((await dave.settings.get()).name).toBeNull()
    await lanPeers(dave, nodes[0]!)
    await waitFor(
      async () => (await dave.settings.get()).name === 'dave',
      90_000,
      'the start-up name to be claimed on the LAN',
    )
    const found = await nodes[0]!.directory.lookup('dave', { fresh: true })
    expect(found?.record.publicKey).toEqual(dave.identity.accountKey.publicKey.raw)
  }, 150_000)
})
