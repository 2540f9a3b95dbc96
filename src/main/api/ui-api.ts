/**
 * The control API methods the softphone UI needs beyond the node's core ones:
 * the address book with pinned keys, conversations and read marks, the call
 * log, ICE servers for calls, settings, usage, account backup, logs and
 * versions. Transport-agnostic, like node-api.ts, which composes it.
 */
import type { ApiOutput, ContactJson, KaiwaApi } from '../../shared/api/contract.js'
import {
  ConflictError,
  KeyChangedError,
  NameConflictError,
  NotFoundError,
  ServiceUnavailableError,
} from '../../shared/errors.js'
import { normalizeUserId } from '../../shared/user-id.js'
import { peerUser } from '../../shared/sip/overlay-uri.js'
import { parseUnverifiedPeer, unverifiedPeer } from '../../shared/identity/verification-state.js'
import { contactRecordToJson, fingerprint } from '../../shared/records/contact-record.js'
import { exportAccount, importAccount } from '../../overlay/identity/identity-backup.js'
import type { CallLog } from '../../overlay/store/call-log.js'
import type { ContactBook, PinnedContact } from '../../overlay/store/contact-book.js'
import type { ReadMarks } from '../../overlay/store/read-marks.js'
import type { NameConflict } from '../../overlay/names/user-directory.js'
import type { StoredMessage } from '../../overlay/sip/message-history.js'
import type { ApiComponents } from './api-components.js'
import type { TurnsForwarder } from '../../overlay/bridge/turns-forwarder.js'

/** A contact's presence lookup must not hold the contact list up for long. */
const PRESENCE_LOOKUP_MS = 4000

export interface UiApiInit {
  node: ApiComponents
  contacts: ContactBook
  calls: CallLog
  readMarks: ReadMarks
  /** Gives the app `turns:` servers through the node (turns-forwarder.ts). */
  turnsForwarder?: Pick<TurnsForwarder, 'localUrl'>
  /** The recent log lines (for "export logs"). */
  logText: () => string
  versions: () => Record<string, string>
  /** Restore an account on this device (first run only); the node republishes under it. */
  adoptAccount: (backup: Awaited<ReturnType<typeof importAccount>>) => Promise<void>
}

export type UiApi = Pick<
  KaiwaApi,
  | 'contacts'
  | 'contactAdd'
  | 'contactRemove'
  | 'contactTrust'
  | 'conversation'
  | 'conversations'
  | 'markRead'
  | 'calls'
  | 'callLog'
  | 'prepareCall'
  | 'iceServers'
  | 'identityExport'
  | 'identityImport'
  | 'logs'
  | 'about'
>

/**
 * A name whose closest nodes hold different keys: only the key the user
 * brought (a `name#fingerprint` link) may be pinned; otherwise both
 * fingerprints are shown and nothing is pinned.
 */
export function chooseInConflict(name: string, conflict: NameConflict, expected?: string): string {
  const fps = conflict.keys.map((k) => k.fingerprint)
  const chosen = fps.find((fp) => expected != null && fp.toLowerCase() === expected.toLowerCase())
  if (chosen != null) return chosen
  throw new NameConflictError(
    `the overlay's nodes disagree on who "${name}" is (keys ${fps.join(' and ')}); ` +
      `ask ${name} for their fingerprint and add "${name}#FINGERPRINT"`,
  )
}

/**
 * A peer as history files it: a user ID, or the separate thread of a key that
 * was not the pinned one (`alice (unverified key FP)`), which must stay apart.
 */
function historyPeer(peer: string): string {
  const unverified = parseUnverifiedPeer(peer)
  if (unverified != null)
    return unverifiedPeer(normalizeUserId(unverified.user), unverified.fingerprint)
  return normalizeUserId(peer)
}

export function createUiApi(init: UiApiInit): UiApi {
  const { node } = init

  const view = async (pinned: PinnedContact): Promise<ContactJson> => {
    const found = await node.directory
      .lookup(pinned.name, { timeoutMs: PRESENCE_LOOKUP_MS })
      .catch(() => undefined)
    if (found == null)
      return {
        ...pinned,
        currentFingerprint: null,
        keyChanged: false,
        online: false,
        lastSeen: null,
      }
    const json = contactRecordToJson(found.record, Date.now())
    return {
      ...pinned,
      currentFingerprint: json.fingerprint,
      keyChanged: json.fingerprint !== pinned.fingerprint,
      online: json.online,
      lastSeen: json.issuedAt,
    }
  }

  const lookupOrThrow = async (name: string) => {
    const found = await node.directory.lookup(name, { fresh: true })
    if (found == null) throw new NotFoundError(`no user "${name}" in the overlay`)
    return found
  }

  const withPeer = async (): Promise<Array<StoredMessage & { user: string }>> =>
    (await node.sip.history.list()).map((m) => ({ ...m, user: peerUser(m.peer) }))

  return {
    contacts: async () => ({
      contacts: await Promise.all((await init.contacts.list()).map(view)),
    }),
    contactAdd: async ({ name: raw, fingerprint: expected }) => {
      const name = normalizeUserId(raw)
      const found = await lookupOrThrow(name)
      // Responders disagree on the key: never pin one automatically (docs/security.md).
      const seen =
        found.conflict != null
          ? chooseInConflict(name, found.conflict, expected)
          : fingerprint(found.record.publicKey)
      if (expected != null && expected.toLowerCase() !== seen.toLowerCase())
        throw new KeyChangedError(
          `the overlay shows a different key for "${name}" (${seen}) than the link gave ` +
            `(${expected}); do not add it unless ${name} confirms the new key`,
        )
      const pinned = await init.contacts.get(name)
      if (pinned != null && pinned.fingerprint !== seen)
        throw new KeyChangedError(
          `"${name}" now has a different key (${seen}, pinned ${pinned.fingerprint}); ` +
            'verify it with them, then choose "Trust new key"',
        )
      return { contact: await view(pinned ?? (await init.contacts.pin(name, seen))) }
    },
    contactRemove: async ({ name }) => {
      await init.contacts.remove(normalizeUserId(name))
      return {}
    },
    contactTrust: async ({ name: raw }) => {
      const name = normalizeUserId(raw)
      const found = await lookupOrThrow(name)
      return {
        contact: await view(await init.contacts.pin(name, fingerprint(found.record.publicKey))),
      }
    },
    conversation: async ({ peer, limit }) => {
      const user = historyPeer(peer)
      const messages = (await withPeer()).filter((m) => m.user === user)
      const newest = messages.slice(-(limit ?? 200))
      return { messages: newest.map(({ user: _u, ...m }) => m) }
    },
    conversations: async () => {
      const all = await withPeer()
      const byUser = new Map<string, { last: StoredMessage; received: string[] }>()
      for (const { user, ...m } of all) {
        const entry = byUser.get(user) ?? { last: m, received: [] }
        entry.last = m
        if (m.direction === 'in') entry.received.push(m.id)
        byUser.set(user, entry)
      }
      const out: ApiOutput<'conversations'>['conversations'] = []
      for (const [peer, { last, received }] of byUser) {
        const mark = await init.readMarks.get(peer)
        out.push({ peer, last, unread: received.filter((id) => id > mark).length })
      }
      out.sort((a, b) => b.last.id.localeCompare(a.last.id))
      return { conversations: out }
    },
    markRead: async ({ peer }) => {
      const user = normalizeUserId(peer)
      const last = (await withPeer()).filter((m) => m.user === user).at(-1)
      if (last != null) await init.readMarks.set(user, last.id)
      return {}
    },
    calls: async ({ limit }) => ({ calls: await init.calls.list(limit) }),
    callLog: async (call) => {
      await init.calls.add({ ...call, peer: historyPeer(call.peer) })
      return {}
    },
    prepareCall: async ({ name }) => ({ devices: await node.sip.prepare(normalizeUserId(name)) }),
    iceServers: async () => {
      // Reused while valid (an hour, renewed 10 min before expiry): a new
      // credential request to a supernode per call cost ~19 ms of call setup.
      const c = await node.turn.reusableCredentials().catch((err: unknown) => {
        throw new ServiceUnavailableError(
          `no STUN/TURN server is available yet (${String(err)}); calls may fail behind ` +
            'strict NATs until the node is attached to a supernode',
        )
      })
      // turns: (TURN over TLS on a supernode's bridge port, for 443-only networks) goes through
      // this node, since the app would refuse the bridge's self-signed certificate.
      const turn = await Promise.all(
        c.urls
          .filter((u) => /^turns?:/.test(u))
          .map(async (u) => (await init.turnsForwarder?.localUrl(u).catch(() => undefined)) ?? u),
      )
      return {
        iceServers: [
          { urls: c.urls.filter((u) => u.startsWith('stun:')) },
          { urls: turn, username: c.username, credential: c.password },
        ],
        expiresAt: c.expiresAt,
      }
    },
    identityExport: async ({ passphrase }) => {
      const { name } = await node.settings.get()
      return {
        backup: await exportAccount({ accountKey: node.account.accountKey, name }, passphrase),
      }
    },
    identityImport: async ({ backup, passphrase }) => {
      if ((await node.settings.get()).name != null)
        throw new ConflictError(
          'this device already has a user ID; restore a backup only on a new install ' +
            '(or start with an empty data directory)',
        )
      const restored = await importAccount(backup, passphrase)
      await init.adoptAccount(restored)
      return {
        name: restored.name,
        fingerprint: fingerprint(restored.accountKey.publicKey.raw),
      }
    },
    logs: async () => ({ text: init.logText() }),
    about: async () => ({ app: 'Kaiwa', versions: init.versions(), dataDir: node.dataDir }),
  }
}
