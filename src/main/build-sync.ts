/**
 * Account sync's part of the composition root (issue 15 §3; kaiwa-node.ts
 * calls it from buildParts): the device book, the sync index, the outbox and
 * AccountSync, wired to the history (through SipService's `sync` hook), the
 * contact book and read marks (their change hooks), the groups (their change
 * hook, and GroupSiblings for what the other devices did) and the directory.
 */
import type { Logger } from '../shared/logger.js'
import type { Identity } from '../overlay/identity/identity-store.js'
import type { KaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import type { UserDirectory } from '../overlay/names/user-directory.js'
import type { SipService } from '../overlay/sip/sip-service.js'
import type { ContactBook } from '../overlay/store/contact-book.js'
import type { DataDir } from '../overlay/store/data-dir.js'
import { ReadMarks } from '../overlay/store/read-marks.js'
import type { SettingsStore } from '../overlay/store/settings-store.js'
import type { GroupService } from '../overlay/groups/group-service.js'
import { groupChangeEvent } from '../overlay/groups/group-siblings.js'
import { AccountSync } from '../overlay/sync/account-sync.js'
import { DeviceBook } from '../overlay/sync/device-book.js'
import { SyncIndex } from '../overlay/sync/sync-index.js'
import { SyncOutbox } from '../overlay/sync/sync-outbox.js'
import { SyncOutboxStore } from '../overlay/sync/sync-outbox-store.js'

export interface SyncBase {
  account: { accountKey: Identity['accountKey'] }
  settings: SettingsStore
  contacts: ContactBook
  data: DataDir
  storeLog: Logger
}

export function buildSync(
  base: SyncBase,
  domain: string,
  node: () => KaiwaLibp2p,
  directory: UserDirectory,
  sip: () => SipService,
  republish: () => void,
  groups: GroupService,
  log: Logger,
) {
  const { account, settings, contacts, data } = base
  const syncLog = log.child('sync')
  const ownName = async (): Promise<string | null> => (await settings.get()).name
  const ownRecord = async (fresh = false) => {
    const name = await ownName()
    if (name == null) return undefined
    return (await directory.lookup(name, { timeoutMs: 8000, ...(fresh ? { fresh } : {}) }))?.record
  }
  const devices = new DeviceBook(data.datastore, { log: base.storeLog })
  const readMarks = new ReadMarks(data.datastore, { log: base.storeLog })
  const outbox = new SyncOutbox({
    node,
    get accountKey() {
      return account.accountKey
    },
    ownName,
    ownRecord,
    linkTo: (peer, addrs) => node().services.sipLinks.linkTo(peer, addrs),
    storeMail: (recipient, plaintext) => sip().storeMail(recipient, plaintext),
    store: new SyncOutboxStore(data.datastore, syncLog),
    domain,
    log: syncLog,
  })
  const sync = new AccountSync({
    get accountKey() {
      return account.accountKey
    },
    selfPeer: () => node().peerId.toString(),
    ownRecord,
    devices,
    index: new SyncIndex(data.datastore, { log: base.storeLog }),
    outbox,
    history: { add: (m) => sip().history.add(m), list: () => sip().history.list() },
    readMarks,
    contacts,
    settings: {
      get: async () => {
        const { autoAcceptMiB, maxMiB } = (await settings.get()).files ?? {}
        return {
          ...(autoAcceptMiB != null ? { autoAcceptMiB } : {}),
          ...(maxMiB != null ? { maxMiB } : {}),
        }
      },
      set: async (shared) => {
        const current = await settings.get()
        await settings.update({ files: { ...current.files, ...shared } })
      },
    },
    groups: {
      apply: (e) => groups.siblings.apply(e),
      snapshot: () => groups.siblings.snapshot(),
    },
    republish,
    log: syncLog,
  })
  const warn = (what: string) => (err: unknown) => syncLog.warn(`${what}: ${String(err)}`)
  contacts.onChanged((name, fp) => void sync.contactChanged(name, fp).catch(warn('contact')))
  readMarks.onChanged(
    (peer, id, previous) => void sync.readMarked(peer, id, previous).catch(warn('read mark')),
  )
  groups.onChange((c) => void sync.share([groupChangeEvent(c)]).catch(warn('group')))
  return {
    sync,
    devices,
    readMarks,
    outbox,
    /** SipService's `sync` hook. */
    sipHooks: {
      filed: (msg: Parameters<AccountSync['messageFiled']>[0], callId: string) =>
        void sync.messageFiled(msg, callId).catch(warn('message')),
      fromMail: (body: Uint8Array) => sync.fromMail(body),
    },
    /** Once libp2p runs: events an earlier run could not send go out again. */
    start: (): Promise<void> => outbox.start(),
    /** Resolves once every queued sync event is on disk. */
    stop: (): Promise<void> => outbox.stop(),
  }
}

export type SyncParts = ReturnType<typeof buildSync>
