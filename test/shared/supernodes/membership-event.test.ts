/**
 * The signed supernode membership event: one valid byte form, signed by the
 * peer it names, and every way a hostile peer could bend it refused with the
 * reason that names the rule.
 */
import { describe, expect, it } from 'vitest'
import { encode } from 'cborg'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import {
  decodeMembershipEvent,
  MAX_EVENT_BYTES,
  MembershipEventError,
  signMembershipEvent,
} from '../../../src/shared/supernodes/membership-event.js'

async function keyAndPeer() {
  const key = await generateKeyPair('Ed25519')
  return { key, peer: peerIdFromPrivateKey(key).toMultihash().bytes }
}

const addr = multiaddr('/ip4/127.0.0.1/tcp/4001').bytes

async function reason(bytes: Uint8Array): Promise<string> {
  try {
    await decodeMembershipEvent(bytes)
  } catch (err) {
    expect(err).toBeInstanceOf(MembershipEventError)
    return (err as MembershipEventError).reason
  }
  return 'accepted'
}

describe('membership events', () => {
  it('round-trips a join and a leave signed by the peer itself', async () => {
    const { key, peer } = await keyAndPeer()
    const join = await signMembershipEvent(
      { kind: 'join', peer, addrs: [addr], issuedAt: 1_000, seq: 7 },
      key,
    )
    const back = await decodeMembershipEvent(join.bytes)
    expect(back).toEqual(join.event)
    const leave = await signMembershipEvent(
      { kind: 'leave', peer, addrs: [], issuedAt: 2_000, seq: 8 },
      key,
    )
    expect((await decodeMembershipEvent(leave.bytes)).kind).toBe('leave')
  })

  it('refuses an event signed by a key other than the named peer’s', async () => {
    const victim = await keyAndPeer()
    const forger = await keyAndPeer()
    const forged = await signMembershipEvent(
      { kind: 'join', peer: victim.peer, addrs: [addr], issuedAt: 1, seq: 1 },
      forger.key,
    )
    expect(await reason(forged.bytes)).toBe('bad-signature')
  })

  it('refuses tampering, non-canonical forms, extra fields and oversize', async () => {
    const { key, peer } = await keyAndPeer()
    const { bytes, event } = await signMembershipEvent(
      { kind: 'join', peer, addrs: [addr], issuedAt: 1_000, seq: 3 },
      key,
    )
    const wire = { v: 1, k: 'join', p: peer, a: [addr], t: 1_000, s: 3, g: event.signature }
    // A later seq under the old signature.
    expect(await reason(encode({ ...wire, s: 4 }))).toBe('bad-signature')
    // Another address under the old signature.
    const other = multiaddr('/ip4/10.0.0.1/tcp/1').bytes
    expect(await reason(encode({ ...wire, a: [other] }))).toBe('bad-signature')
    // Extra field, unknown version, bad kind, leave with addresses.
    expect(await reason(encode({ ...wire, x: 1 }))).toBe('malformed')
    expect(await reason(encode({ ...wire, v: 2 }))).toBe('malformed')
    expect(await reason(encode({ ...wire, k: 'stay' }))).toBe('malformed')
    expect(await reason(encode({ ...wire, k: 'leave' }))).toBe('malformed')
    // Garbage, and a float where an integer belongs.
    expect(await reason(new Uint8Array([0xff, 0x00]))).toBe('malformed')
    expect(await reason(encode({ ...wire, t: 1.5 }))).toBe('malformed')
    // Too large, before any decoding.
    expect(await reason(new Uint8Array(MAX_EVENT_BYTES + 1))).toBe('too-large')
    // The signed bytes themselves pass; the same map with its keys out of order does not.
    expect(await reason(bytes)).toBe('accepted')
    const entries = Object.entries(wire).reverse()
    const reordered = new Uint8Array([
      0xa0 + entries.length,
      ...entries.flatMap(([k, v]) => [...encode(k), ...encode(v)]),
    ])
    expect(await reason(reordered)).toBe('malformed')
  })

  it('refuses more than 8 addresses and addresses that are not multiaddrs', async () => {
    const { key, peer } = await keyAndPeer()
    const many = await signMembershipEvent(
      { kind: 'join', peer, addrs: Array.from({ length: 9 }, () => addr), issuedAt: 1, seq: 1 },
      key,
    )
    expect(await reason(many.bytes)).toBe('malformed')
    const junk = await signMembershipEvent(
      { kind: 'join', peer, addrs: [new Uint8Array([0xde, 0xad])], issuedAt: 1, seq: 1 },
      key,
    )
    expect(await reason(junk.bytes)).toBe('malformed')
  })
})
