/**
 * A publish that no supernode took is retried every few seconds (the refresh
 * loop). The claim stamp's proof of work costs about a second of CPU at the
 * default difficulty, so a retry must reuse the stamp it minted, not mint
 * again (bench:sip found a node minting on every retry while under load).
 */
import { afterAll, describe, expect, it, vi } from 'vitest'
import type * as ClaimPow from '../../../src/shared/records/claim-pow.js'
import { connect, startNameNode, type NameNode } from './name-nodes.js'

const mints = vi.hoisted(() => ({ count: 0 }))
vi.mock('../../../src/shared/records/claim-pow.js', async (importOriginal) => {
  const real = await importOriginal<typeof ClaimPow>()
  return {
    ...real,
    mintClaimStamp: (...args: Parameters<typeof real.mintClaimStamp>) => {
      mints.count++
      return real.mintClaimStamp(...args)
    },
  }
})

const started: NameNode[] = []
afterAll(async () => {
  await Promise.allSettled(started.map((n) => n.stop()))
})

describe('claim stamps', () => {
  it('are minted once per name, however often the publish is retried', async () => {
    // A supernode that demands more work than alice's stamps carry refuses
    // every publish at once (as a full or misconfigured one would).
    const sn = await startNameNode({ server: true, powBits: 24 })
    const alice = await startNameNode({ server: false })
    started.push(sn, alice)
    await connect(alice, [sn])
    for (let attempt = 0; attempt < 3; attempt++)
      await expect(alice.directory.publish('alice')).rejects.toThrow(/no supernode accepted/)
    expect(sn.refused.length).toBeGreaterThanOrEqual(3)
    expect(mints.count).toBe(1)
  }, 60_000)
})
