/**
 * The supernode's mail storage on a real level datastore: validation, quotas,
 * rate limits, TTL, idempotency, and that a failing disk never loses mail that
 * was already stored.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'
import { storageHealth } from '../../../src/overlay/store/quarantine.js'
import { StorageVersionError } from '../../../src/overlay/store/storage-errors.js'
import {
  MailboxFullError,
  MailboxStore,
  MailRateLimitedError,
} from '../../../src/overlay/mailbox/mailbox-store.js'
import type { MailboxStoreOptions } from '../../../src/overlay/mailbox/mailbox-store.js'
import {
  InvalidMailError,
  MAX_MAIL_BYTES,
  MailSignatureError,
  MailTooLargeError,
  encodeMail,
  mailSignedBytes,
  sealMail,
} from '../../../src/shared/mail/sealed-mail.js'
import type { MailEnvelope } from '../../../src/shared/mail/sealed-mail.js'
import { tempDir, waitFor } from '../../helpers/nodes.js'

const NOW = 1_700_000_000_000
const DAY = 86_400_000
/** The sender user ID the mailbox server verified (the store trusts it). */
const SENDER = 'alice'

let dir: string
let ds: LevelDatastore
let alice: Ed25519PrivateKey
let bob: Ed25519PrivateKey
let carol: Ed25519PrivateKey

beforeEach(async () => {
  dir = await tempDir('kaiwa-mailbox-')
  ds = new LevelDatastore(join(dir, 'ds'))
  await ds.open()
  ;[alice, bob, carol] = await Promise.all([
    generateKeyPair('Ed25519'),
    generateKeyPair('Ed25519'),
    generateKeyPair('Ed25519'),
  ])
})

afterEach(async () => {
  await ds.close()
  await rm(dir, { recursive: true, force: true })
})

async function mail(
  from: Ed25519PrivateKey,
  to: Ed25519PrivateKey,
  createdAt = NOW,
  bodySize = 10,
): Promise<MailEnvelope> {
  return sealMail({
    to: 'someone',
    recipientKey: to.publicKey.raw,
    senderPrivateKey: from,
    createdAt,
    plaintext: {
      from: 'sender',
      fromUri: 'sip:sender@kaiwa.invalid',
      date: new Date(createdAt).toUTCString(),
      contentType: 'text/plain',
      body: new Uint8Array(bodySize),
    },
  })
}

const ids = (envs: MailEnvelope[]) => envs.map((e) => Buffer.from(e.id).toString('hex'))

/** A datastore whose puts start failing (like a full disk) after `okPuts` successes. */
function failingAfter(inner: Datastore, okPuts: number): Datastore & { full: boolean } {
  let puts = 0
  const state = { full: false }
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'full') return state.full
      if (prop === 'put') {
        return async (...args: Parameters<Datastore['put']>) => {
          if (puts >= okPuts) {
            state.full = true
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
          }
          puts++
          return target.put(...args)
        }
      }
      const v = Reflect.get(target, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  }) as Datastore & { full: boolean }
}

const store = (opts: MailboxStoreOptions = {}, d: Datastore = ds) => new MailboxStore(d, opts)

describe('MailboxStore', () => {
  it('stores, lists oldest first, deletes and counts', async () => {
    const s = store()
    const m2 = await mail(alice, bob, NOW - 1000)
    const m1 = await mail(alice, bob, NOW - 2000)
    const m3 = await mail(bob, carol, NOW)
    expect(await s.put(m2, SENDER, NOW)).toBe('stored')
    expect(await s.put(encodeMail(m1), SENDER, NOW)).toBe('stored')
    expect(await s.put(m3, SENDER, NOW)).toBe('stored')
    expect(ids(await s.list(bob.publicKey.raw, NOW))).toEqual(ids([m1, m2]))
    expect(await s.list(bob.publicKey.raw, NOW, 1)).toEqual([m1])
    expect(ids(await s.list(carol.publicKey.raw, NOW))).toEqual(ids([m3]))
    expect(await s.list(alice.publicKey.raw, NOW)).toEqual([])
    const bytes = [m1, m2, m3].reduce((n, m) => n + encodeMail(m).length, 0)
    expect(await s.stats()).toEqual({ mailboxes: 2, messages: 3, bytes })

    // Deleting another recipient's ids through bob's mailbox does nothing.
    expect(await s.delete(bob.publicKey.raw, [m3.id])).toBe(0)
    expect(await s.delete(bob.publicKey.raw, [m1.id, m1.id, m2.id])).toBe(2)
    expect(await s.list(bob.publicKey.raw, NOW)).toEqual([])
    expect(await s.stats()).toEqual({ mailboxes: 1, messages: 1, bytes: encodeMail(m3).length })

    // A new store on the same datastore rebuilds the same view.
    expect(await store().stats()).toEqual(await s.stats())
  })

  it('is idempotent on the same mail and refuses a different mail with the same id', async () => {
    const s = store()
    const m = await mail(alice, bob)
    expect(await s.put(m, SENDER, NOW)).toBe('stored')
    expect(await s.put(m, SENDER, NOW)).toBe('duplicate')
    expect((await s.stats()).messages).toBe(1)
    // A validly signed, different envelope that reuses the id (e.g. copied off another supernode).
    const { sig: _sig, ...unsigned } = { ...(await mail(alice, bob)), id: m.id }
    const clash = { ...unsigned, sig: new Uint8Array(await alice.sign(mailSignedBytes(unsigned))) }
    await expect(s.put(clash, SENDER, NOW)).rejects.toThrow(/already stored/)
    expect((await s.stats()).messages).toBe(1)
  })

  it('validates before storing', async () => {
    const s = store()
    const m = await mail(alice, bob)
    const sig = new Uint8Array(m.sig)
    sig[0]! ^= 1
    await expect(s.put({ ...m, sig }, SENDER, NOW)).rejects.toThrow(MailSignatureError)
    await expect(s.put(await mail(alice, bob, NOW + 6 * 60_000), SENDER, NOW)).rejects.toThrow(
      /future/,
    )
    await expect(s.put(await mail(alice, bob, NOW - 8 * DAY), SENDER, NOW)).rejects.toThrow(
      /expired/,
    )
    await expect(s.put(new Uint8Array([1, 2, 3]), SENDER, NOW)).rejects.toThrow(InvalidMailError)
    await expect(s.put(new Uint8Array(MAX_MAIL_BYTES + 1), SENDER, NOW)).rejects.toThrow(
      MailTooLargeError,
    )
    // A little clock skew is fine.
    expect(await s.put(await mail(alice, bob, NOW + 60_000), SENDER, NOW)).toBe('stored')
    expect((await s.stats()).messages).toBe(1)
  })

  it('enforces the per-recipient count and byte quotas', async () => {
    const s = store({ maxMessagesPerMailbox: 2, maxBytesPerMailbox: 5000 })
    await s.put(await mail(alice, bob), SENDER, NOW)
    await s.put(await mail(alice, bob), SENDER, NOW)
    await expect(s.put(await mail(alice, bob), SENDER, NOW)).rejects.toThrow(MailboxFullError)
    // Other mailboxes are unaffected.
    await s.put(await mail(alice, carol, NOW, 3000), SENDER, NOW)
    await expect(s.put(await mail(alice, carol, NOW, 3000), SENDER, NOW)).rejects.toThrow(
      MailboxFullError,
    )
    expect(await s.stats()).toMatchObject({ mailboxes: 2, messages: 3 })
  })

  it('shares the global storage cap between sender names', async () => {
    const s = store({ maxTotalBytes: 3200 })
    const first = await mail(alice, bob, NOW - 1, 1000)
    const second = await mail(alice, carol, NOW, 1000)
    await s.put(first, 'alice', NOW)
    await s.put(second, 'alice', NOW + 1)
    // The full store refuses the sender holding the most...
    await expect(s.put(await mail(alice, carol, NOW, 1000), 'alice', NOW)).rejects.toThrow(
      /storage is full/,
    )
    // ...but another sender gets in, at the cost of that sender's newest mail.
    expect(await s.put(await mail(bob, alice, NOW, 1000), 'bob', NOW)).toBe('stored')
    expect(ids(await s.list(bob.publicKey.raw, NOW))).toEqual(ids([first]))
    expect(await s.list(carol.publicKey.raw, NOW)).toEqual([])
    // Each now holds one mail's worth: a newcomer with as big a mail would end
    // up holding as much as its victim, so it is refused and nobody loses mail.
    await expect(s.put(await mail(carol, bob, NOW, 1000), 'carol', NOW)).rejects.toThrow(
      /storage is full/,
    )
    expect(await s.stats()).toMatchObject({ messages: 2 })
  })

  it('caps the bytes one sender name holds over all mailboxes', async () => {
    const s = store({ maxBytesPerSender: 2000 })
    await s.put(await mail(alice, bob, NOW, 1000), 'alice', NOW)
    await expect(s.put(await mail(alice, carol, NOW, 1000), 'alice', NOW)).rejects.toThrow(
      /this sender has too much mail/,
    )
    expect(await s.put(await mail(bob, carol, NOW, 1000), 'bob', NOW)).toBe('stored')
  })

  it('rate-limits per sender name, per window, whatever key or peer carries it', async () => {
    const s = store({ ratePerWindow: 2, rateWindowMs: 60_000 })
    await s.put(await mail(alice, bob), 'alice', NOW)
    await s.put(await mail(alice, carol), 'alice', NOW)
    await expect(s.put(await mail(alice, bob), 'alice', NOW)).rejects.toThrow(MailRateLimitedError)
    // Other names are not affected.
    expect(await s.put(await mail(bob, carol), 'bob', NOW)).toBe('stored')
    // The next window starts afresh.
    expect(await s.put(await mail(alice, bob, NOW), 'alice', NOW + 60_000)).toBe('stored')
  })

  it('refuses a sender that is not a valid user ID', async () => {
    await expect(store().put(await mail(alice, bob), 'Not A Name', NOW)).rejects.toThrow(
      InvalidMailError,
    )
  })

  it('never returns expired mail and purges it', async () => {
    const s = store({ ttlMs: DAY })
    const old = await mail(alice, bob, NOW - DAY + 1000)
    const fresh = await mail(alice, bob, NOW)
    await s.put(old, SENDER, NOW)
    await s.put(fresh, SENDER, NOW)
    const later = NOW + 2000
    expect(ids(await s.list(bob.publicKey.raw, later))).toEqual(ids([fresh]))
    expect(await s.purgeExpired(later)).toBe(1)
    expect(await s.stats()).toEqual({ mailboxes: 1, messages: 1, bytes: encodeMail(fresh).length })
    expect(await s.purgeExpired(NOW + DAY)).toBe(1)
    expect(await s.stats()).toEqual({ mailboxes: 0, messages: 0, bytes: 0 })
    // Gone from disk too, not only from the index.
    expect(await store().stats()).toEqual({ mailboxes: 0, messages: 0, bytes: 0 })
  })

  it('purges on a timer while started', async () => {
    const s = store({ ttlMs: 400, purgeIntervalMs: 50 })
    await s.put(await mail(alice, bob, Date.now()), SENDER)
    await s.start()
    try {
      expect((await s.stats()).messages).toBe(1)
      await waitFor(async () => (await s.stats()).messages === 0, 5000, 'the purge timer')
    } finally {
      s.stop()
    }
  })

  it('a failing write (disk full) reports an error and leaves earlier mail intact', async () => {
    // Three writes succeed: the collection's schema version, then two mails.
    const flaky = failingAfter(ds, 3)
    const s = store({}, flaky)
    const kept = [await mail(alice, bob, NOW - 1), await mail(alice, bob, NOW)]
    for (const m of kept) await s.put(m, SENDER, NOW)
    await expect(s.put(await mail(carol, bob), SENDER, NOW)).rejects.toThrow(/ENOSPC/)
    expect(flaky.full).toBe(true)
    expect(ids(await s.list(bob.publicKey.raw, NOW))).toEqual(ids(kept))
    expect(await s.stats()).toMatchObject({ mailboxes: 1, messages: 2 })
    // Deleting still works on a full disk, and the earlier mail survives a restart.
    expect(await s.delete(bob.publicKey.raw, [kept[0]!.id])).toBe(1)
    expect(ids(await store().list(bob.publicKey.raw, NOW))).toEqual(ids([kept[1]!]))
  })

  it('serialises concurrent puts so a quota cannot be overshot', async () => {
    const s = store({ maxMessagesPerMailbox: 3 })
    const many = await Promise.all(Array.from({ length: 8 }, () => mail(carol, bob)))
    const results = await Promise.allSettled(many.map((m, i) => s.put(m, `sender${i}`, NOW)))
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3)
    expect((await s.stats()).messages).toBe(3)
  })
})

describe('MailboxStore storage (docs/storage.md)', () => {
  it('quarantines unreadable mail with its bytes and reports it; the rest stays readable', async () => {
    const store = new MailboxStore(ds)
    const good = await mail(alice, bob, NOW)
    const bad = await mail(carol, bob, NOW + 1)
    await store.put(good, SENDER, NOW)
    await store.put(bad, 'carol', NOW + 1)
    // Corrupt carol's stored bytes, as a damaged disk would.
    let badKey: Key | undefined
    for await (const { key, value } of ds.query({ prefix: '/kaiwa/mailbox' }))
      if (Buffer.from(value).includes(Buffer.from(bad.id))) badKey = key
    expect(badKey).toBeDefined()
    await ds.put(badKey!, new Uint8Array([0xff, 0x00, 0x13]))

    const listed = await store.list(bob.publicKey.raw, NOW + 2)
    expect(ids(listed)).toEqual(ids([good]))
    const health = await storageHealth(ds)
    expect(health.quarantined).toHaveLength(1)
    expect(health.quarantined[0]).toMatchObject({ collection: 'mailbox', key: badKey!.toString() })
    expect(store.usage().messages).toBe(1)
  })

  it('refuses a mailbox written by a newer Kaiwa, untouched', async () => {
    await ds.put(
      new Key('/kaiwa/schema/mailbox'),
      new TextEncoder().encode('{"version":9,"complete":true}'),
    )
    const store = new MailboxStore(ds)
    await expect(store.list(bob.publicKey.raw, NOW)).rejects.toThrow(StorageVersionError)
  })
})
