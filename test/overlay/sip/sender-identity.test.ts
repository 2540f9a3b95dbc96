/**
 * SenderIdentity on its own: signing only as the node's own name, the RFC 8224
 * §6.2.2 codes, the device check (with a fresh lookup when the cached record
 * predates a device), the state against the pinned key, and the
 * X-Kaiwa-Identity header a sender cannot set for itself.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { SenderIdentity } from '../../../src/overlay/sip/sender-identity.js'
import type { LookupResult } from '../../../src/overlay/names/user-directory.js'
import {
  IDENTITY_STATE_HEADER,
  formatState,
  parseState,
} from '../../../src/shared/identity/verification-state.js'
import { fingerprint } from '../../../src/shared/records/contact-record.js'
import type { ContactRecord } from '../../../src/shared/records/contact-record.js'
import { buildRequest } from '../../../src/shared/sip/request-builder.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'
import { testLog } from '../rpc/plain-libp2p.js'

let aliceKey: Ed25519PrivateKey
let device: string
let deviceBytes: Uint8Array
let otherDeviceBytes: Uint8Array

beforeAll(async () => {
  aliceKey = await generateKeyPair('Ed25519')
  const d = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  device = d.toString()
  deviceBytes = d.toMultihash().bytes
  otherDeviceBytes = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes
})

function found(devices: Uint8Array[], source: LookupResult['source'] = 'network'): LookupResult {
  const record = {
    name: 'alice',
    publicKey: aliceKey.publicKey.raw,
    devices: devices.map((peerId) => ({ peerId, addrs: [], expiresAt: Date.now() + 60_000 })),
  } as unknown as ContactRecord
  return { record, bytes: new Uint8Array(), source, responses: 1 }
}

function message(from = 'alice'): SipRequest {
  return buildRequest({
    method: 'MESSAGE',
    uri: 'sip:bob@kaiwa',
    from: `sip:${from}@kaiwa`,
    headers: [['Content-Type', 'text/plain']],
    body: new TextEncoder().encode('hi'),
  })
}

function identity(
  opts: {
    lookup?: (name: string, fresh?: boolean) => Promise<LookupResult | undefined>
    pinned?: string
  } = {},
): SenderIdentity {
  return new SenderIdentity({
    accountKey: aliceKey,
    ownName: async () => 'alice',
    lookup: opts.lookup ?? (async () => found([deviceBytes])),
    pinnedFingerprint: async () => opts.pinned,
    log: testLog,
  })
}

describe('SenderIdentity', () => {
  it('signs only requests From the claimed name, dropping any state header sent along', async () => {
    const id = identity()
    expect(await id.sign(message('mallory'))).toMatchObject({ status: 403, reason: 'Forbidden' })
    const req = message()
    req.headers.set(IDENTITY_STATE_HEADER, 'verified; fp=aaaa-aaaa-aaaa-aaaa')
    expect(await id.sign(req)).toBeUndefined()
    expect(req.headers.has('Identity')).toBe(true)
    expect(req.headers.has('Date')).toBe(true)
    expect(req.headers.has(IDENTITY_STATE_HEADER)).toBe(false)
  })

  it('refuses to sign a request whose Date is not current (RFC 8224 §6.1)', async () => {
    const req = message()
    req.headers.set('Date', new Date(Date.now() - 3_600_000).toUTCString())
    expect(await identity().sign(req)).toMatchObject({ status: 403, reason: 'Stale Date' })
  })

  it('answers 428 without a token and 403 for a device that is not in the record', async () => {
    const id = identity()
    expect(await id.verify(message(), device)).toMatchObject({ status: 428 })
    const req = message()
    await id.sign(req)
    expect(await identity().verify(req, 'somebody-else')).toMatchObject({
      status: 403,
      reason: 'Sender device not in record',
    })
  })

  it('sets the state a sender cannot forge: new, verified, mismatch, with conflict', async () => {
    const fp = fingerprint(aliceKey.publicKey.raw)
    const signed = async (): Promise<SipRequest> => {
      const req = message()
      await identity().sign(req)
      req.headers.add(IDENTITY_STATE_HEADER, 'verified; fp=aaaa-aaaa-aaaa-aaaa')
      return req
    }
    let req = await signed()
    expect(await identity().verify(req, device)).toEqual({
      state: 'new',
      fingerprint: fp,
      conflict: false,
    })
    expect(req.headers.getAll(IDENTITY_STATE_HEADER)).toEqual([`new; fp=${fp}`])

    req = await signed()
    expect(await identity({ pinned: fp }).verify(req, device)).toMatchObject({ state: 'verified' })
    req = await signed()
    expect(await identity({ pinned: 'aaaa-aaaa-aaaa-aaaa' }).verify(req, device)).toMatchObject({
      state: 'mismatch',
    })

    req = await signed()
    const contested = identity({
      lookup: async () => ({ ...found([deviceBytes]), conflict: { keys: [] } }),
    })
    expect(await contested.verify(req, device)).toMatchObject({ state: 'new', conflict: true })
    expect(parseState(req.headers.get(IDENTITY_STATE_HEADER))).toEqual({
      state: 'new',
      fingerprint: fp,
      conflict: true,
    })
  })

  it('looks again, skipping the cache, when the cached record predates the device', async () => {
    const calls: boolean[] = []
    const id = identity({
      lookup: async (_name, fresh) => {
        calls.push(fresh === true)
        return fresh === true ? found([deviceBytes]) : found([otherDeviceBytes], 'cache')
      },
    })
    const req = message()
    await identity().sign(req)
    expect(await id.verify(req, device)).toMatchObject({ state: 'new' })
    expect(calls).toEqual([false, true])
  })

  it('answers 480 when the sender cannot be looked up, never as a forgery', async () => {
    const req = message()
    await identity().sign(req)
    const id = identity({
      lookup: async () => {
        throw new Error('DHT down')
      },
    })
    expect(await id.verify(req, device)).toMatchObject({ status: 480 })
  })

  it('formats and parses the state header, refusing anything else', () => {
    const s = { state: 'mismatch', fingerprint: 'abcd-efgh-ijkl-mnop', conflict: false } as const
    expect(parseState(formatState(s))).toEqual(s)
    expect(parseState('trusted; fp=abcd-efgh-ijkl-mnop')).toBeUndefined()
    expect(parseState('verified')).toBeUndefined()
    expect(parseState(undefined)).toBeUndefined()
  })
})
