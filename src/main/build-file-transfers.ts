/**
 * File transfer's part of the composition root (kaiwa-node.ts calls it from
 * buildParts): the long-lived FileTransfers, reading the current libp2p
 * instance, the directory, the contact book and the settings on use.
 */
import type { Logger } from '../shared/logger.js'
import { FileTransfers } from '../overlay/files/file-transfers.js'
import type { KaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import type { UserDirectory } from '../overlay/names/user-directory.js'
import type { SipService } from '../overlay/sip/sip-service.js'
import { effectiveFileSettings } from '../overlay/store/settings-store.js'
import type { Identity } from '../overlay/identity/identity-store.js'
import type { ContactBook } from '../overlay/store/contact-book.js'
import type { DataDir } from '../overlay/store/data-dir.js'
import type { SettingsStore } from '../overlay/store/settings-store.js'

/** The parts of the node's base (kaiwa-node.ts `openBase`) file transfer reads. */
export interface FileTransfersBase {
  account: { accountKey: Identity['accountKey'] }
  settings: SettingsStore
  contacts: ContactBook
  data: DataDir
}

/** File transfer (issue 15 §1): the transfers outlive a role change, like the router. */
export function buildFileTransfers(
  base: FileTransfersBase,
  domain: string,
  node: () => KaiwaLibp2p,
  directory: UserDirectory,
  sip: () => SipService,
  log: Logger,
): FileTransfers {
  const { account, settings, contacts, data } = base
  return new FileTransfers({
    node,
    datastore: data.datastore,
    get accountKey() {
      return account.accountKey
    },
    ownName: async () => (await settings.get()).name,
    domain,
    settings: async () => effectiveFileSettings(await settings.get(), data.path),
    lookup: (name, fresh) =>
      directory.lookup(name, { timeoutMs: 8000, ...(fresh === true ? { fresh } : {}) }),
    pinnedFingerprint: async (name) => (await contacts.get(name))?.fingerprint,
    storeMail: (recipient, plaintext) => sip().storeMail(recipient, plaintext),
    log: log.child('files'),
  })
}
