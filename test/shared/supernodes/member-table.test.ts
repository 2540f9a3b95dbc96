/**
 * The one-hop table's admission rules (who may say what, how old, in which
 * order), expiry, leave tombstones, and the K closest by kad-dht's XOR metric.
 */
import { describe, expect, it } from 'vitest'
import { sha256 } from '@noble/hashes/sha2.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { compare } from 'uint8arrays'
import { MemberTable, xor } from '../../../src/shared/supernodes/member-table.js'
import {
  MembershipEventError,
  signMembershipEvent,
} from '../../../src/shared/supernodes/membership-event.js'
import type { MembershipKind } from '../../../src/shared/supernodes/membership-event.js'

const TTL = 60_000
const addr = multiaddr('/ip4/127.0.0.1/tcp/4001').bytes

interface Signer {
  key: PrivateKey
  peer: Uint8Array
  id: string
}

async function signer(): Promise<Signer> {
  const key = await generateKeyPair('Ed25519')
  const id = peerIdFromPrivateKey(key)
  return { key, peer: id.toMultihash().bytes, id: id.toString() }
}

async function ev(s: Signer, kind: MembershipKind, issuedAt: number, seq: number) {
  return signMembershipEvent(
    { kind, peer: s.peer, addrs: kind === 'join' ? [addr] : [], issuedAt, seq },
    s.key,
  )
}

function refusal(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(MembershipEventError)
    return (err as MembershipEventError).reason
  }
  return 'admitted'
}

describe('MemberTable', () => {
  it('admits a peer’s own join and refuses one relayed in its name', async () => {
    const t = new MemberTable({ ttlMs: TTL })
    const a = await signer()
    const b = await signer()
    const join = await ev(a, 'join', 1_000, 1)
    expect(refusal(() => t.admit(join.event, join.bytes, 1_000, b.peer))).toBe('impostor')
    expect(t.members(1_000)).toHaveLength(0)
    expect(t.admit(join.event, join.bytes, 1_000, a.peer)).toBe('accepted')
    expect(t.members(1_000).map((e) => e.id)).toEqual([a.id])
  })

  it('refuses events from the future and backdated ones', async () => {
    const t = new MemberTable({ ttlMs: TTL })
    const a = await signer()
    const now = 10_000_000
    const future = await ev(a, 'join', now + 5 * 60_000 + 1, 1)
    expect(refusal(() => t.admit(future.event, future.bytes, now))).toBe('future')
    const old = await ev(a, 'join', now - TTL, 2)
    expect(refusal(() => t.admit(old.event, old.bytes, now))).toBe('stale')
    // A little clock skew ahead is fine.
    const skewed = await ev(a, 'join', now + 60_000, 3)
    expect(t.admit(skewed.event, skewed.bytes, now)).toBe('accepted')
  })

  it('refuses an older seq, ignores a close reordering and an exact duplicate, refuses two events with one seq', async () => {
    const t = new MemberTable({ ttlMs: 10 * 60_000 })
    const a = await signer()
    const now = 1_000_000
    const current = await ev(a, 'join', now, 5)
    const crossed = await ev(a, 'join', now - 1_000, 4)
    const old = await ev(a, 'join', now - 120_000, 3)
    expect(t.admit(current.event, current.bytes, now)).toBe('accepted')
    expect(t.admit(crossed.event, crossed.bytes, now)).toBe('outdated')
    expect(refusal(() => t.admit(old.event, old.bytes, now))).toBe('replayed')
    expect(t.admit(current.event, current.bytes, now)).toBe('duplicate')
    const twin = await ev(a, 'join', now + 1, 5)
    expect(refusal(() => t.admit(twin.event, twin.bytes, now + 1))).toBe('equivocation')
    expect(t.get(a.id)?.event.seq).toBe(5)
  })

  it('a leave removes the member and a late older join cannot bring it back', async () => {
    const t = new MemberTable({ ttlMs: TTL })
    const a = await signer()
    const join = await ev(a, 'join', 1_000, 1)
    const leave = await ev(a, 'leave', 2_000, 2)
    t.admit(join.event, join.bytes, 1_000)
    t.admit(leave.event, leave.bytes, 2_000)
    expect(t.members(2_000)).toHaveLength(0)
    expect(t.admit(join.event, join.bytes, 2_500)).toBe('outdated')
    expect(t.members(2_500)).toHaveLength(0)
    const rejoin = await ev(a, 'join', 3_000, 3)
    expect(t.admit(rejoin.event, rejoin.bytes, 3_000)).toBe('accepted')
    expect(t.members(3_000)).toHaveLength(1)
  })

  it('expires entries that were not re-announced within the TTL', async () => {
    const t = new MemberTable({ ttlMs: TTL })
    const a = await signer()
    const b = await signer()
    const ja = await ev(a, 'join', 1_000, 1)
    const jb = await ev(b, 'join', 30_000, 1)
    t.admit(ja.event, ja.bytes, 1_000)
    t.admit(jb.event, jb.bytes, 30_000)
    expect(t.members(1_000 + TTL).map((e) => e.id)).toEqual([b.id])
    expect(t.expire(1_000 + TTL)).toBe(1)
    expect(t.size).toBe(1)
    expect(t.snapshot(30_000 + TTL)).toEqual([])
  })

  it('holds at most maxEntries peers, ignoring new ones beyond it', async () => {
    const t = new MemberTable({ ttlMs: TTL, maxEntries: 2 })
    const ss = await Promise.all([signer(), signer(), signer()])
    const evs = await Promise.all(ss.map((s) => ev(s, 'join', 1_000, 1)))
    expect(evs.map((e) => t.admit(e.event, e.bytes, 1_000))).toEqual([
      'accepted',
      'accepted',
      'full',
    ])
  })

  it('returns the K closest live members by XOR distance of SHA-256 points, skipping some', async () => {
    const t = new MemberTable({ ttlMs: TTL })
    const ss = await Promise.all(Array.from({ length: 12 }, () => signer()))
    for (const s of ss) {
      const e = await ev(s, 'join', 1_000, 1)
      t.admit(e.event, e.bytes, 1_000)
    }
    const key = new TextEncoder().encode('/kaiwa-user/alice')
    const target = sha256(key)
    const expected = [...ss]
      .sort((x, y) => compare(xor(target, sha256(x.peer)), xor(target, sha256(y.peer))))
      .map((s) => s.id)
    expect(t.closest(key, 5, 1_000).map((e) => e.id)).toEqual(expected.slice(0, 5))
    const skip = new Set(expected.slice(0, 2))
    expect(t.closest(key, 3, 1_000, (id) => skip.has(id)).map((e) => e.id)).toEqual(
      expected.slice(2, 5),
    )
  })
})
