/**
 * What a Kaiwa node opens before it builds anything (kaiwa-node.ts step 1):
 * the migrated datastore, the identity, settings and the long-lived stores,
 * and the DHT record policy that reads them. Split from the composition root
 * so that each build-*.ts part can name the slice of the base it reads.
 */
import type { Logger } from '../shared/logger.js'
import type { DataDir } from '../overlay/store/data-dir.js'
import { loadOrCreateIdentity } from '../overlay/identity/identity-store.js'
import type { Identity } from '../overlay/identity/identity-store.js'
import { MailboxStore } from '../overlay/mailbox/mailbox-store.js'
import type { KaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import { dhtNeighbourQuery } from '../overlay/names/neighbour-query.js'
import { userRecordValidators } from '../overlay/names/record-validator.js'
import { SettingsStore } from '../overlay/store/settings-store.js'
import { ContactBook } from '../overlay/store/contact-book.js'
import { migrateAll } from '../overlay/store/migrate-all.js'
import type { KaiwaNodeOptions } from './kaiwa-node-options.js'

/** Step 1 of the node's start: what outlives everything, read from the data directory. */
export type NodeBase = Awaited<ReturnType<typeof openBase>>

export async function openBase(data: DataDir, log: Logger) {
  // Stored data from an older Kaiwa is migrated before anything reads it; data
  // from a newer one is refused untouched (docs/storage.md).
  const storeLog = log.child('storage')
  await migrateAll(data.datastore, storeLog)
  const { identity, created } = await loadOrCreateIdentity(data.datastore)
  if (created) log.info(`created a new identity in ${data.path}`)
  const settings = new SettingsStore(data.datastore, { log: storeLog })
  return {
    data,
    identity,
    // Components read the account key on use: restoring a backup replaces it.
    account: identity as { accountKey: Identity['accountKey'] },
    settings,
    saved: await settings.get(),
    mailboxStore: new MailboxStore(data.datastore, { log: log.child('mailbox') }),
    // One book for the SIP service (sender checks) and the API (the UI's edits).
    contacts: new ContactBook(data.datastore, undefined, { log: storeLog }),
    startedAt: Date.now(),
    storeLog,
  }
}

/** DHT record validation: signatures, stamps, and the neighbour check on first claims. */
export function recordPolicy(
  base: Pick<NodeBase, 'data'>,

  opts: Pick<KaiwaNodeOptions, 'claimPowBits'>,
  node: () => KaiwaLibp2p,
  log: Logger,
) {
  const recordLog = log.child('records')
  return userRecordValidators({
    datastore: base.data.datastore,
    onRefused: (name, reason) => recordLog.warn(`refused record ${name}: ${reason}`),
    // Before a first claim for a name it does not hold, a storing node asks
    // the other closest nodes (docs/security.md).
    neighbours: dhtNeighbourQuery(node),
    ...(opts.claimPowBits != null ? { powBits: opts.claimPowBits } : {}),
  })
}
