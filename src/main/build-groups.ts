/**
 * Group chat's part of the composition root (kaiwa-node.ts calls it from
 * buildParts): the long-lived GroupService, sending through the SIP router
 * and reading the directory, the contact book and the settings on use.
 */
import type { Logger } from '../shared/logger.js'
import { KeyChangedError, NameConflictError, NotFoundError } from '../shared/errors.js'
import { fingerprint } from '../shared/records/contact-record.js'
import { GROUP_CONTENT_TYPE } from '../shared/groups/group-wire.js'
import { GroupService } from '../overlay/groups/group-service.js'
import { GroupStore } from '../overlay/groups/group-store.js'
import type { KaiwaLibp2p } from '../overlay/node/libp2p-factory.js'
import type { UserDirectory } from '../overlay/names/user-directory.js'
import { sendMessage } from '../overlay/sip/internal-ua.js'
import type { SipService } from '../overlay/sip/sip-service.js'
import type { Identity } from '../overlay/identity/identity-store.js'
import type { ContactBook } from '../overlay/store/contact-book.js'
import type { DataDir } from '../overlay/store/data-dir.js'
import type { SettingsStore } from '../overlay/store/settings-store.js'

/** The parts of the node's base (kaiwa-node.ts `openBase`) group chat reads. */
export interface GroupsBase {
  account: { accountKey: Identity['accountKey'] }
  settings: SettingsStore
  contacts: ContactBook
  data: DataDir
}

export function buildGroups(
  base: GroupsBase,
  domain: string,
  node: () => KaiwaLibp2p,
  directory: UserDirectory,
  sip: () => SipService,
  log: Logger,
): GroupService {
  const { account, settings, contacts, data } = base
  const ownName = async (): Promise<string | null> => (await settings.get()).name
  return new GroupService({
    store: new GroupStore(data.datastore, log.child('groups')),
    get accountKey() {
      return account.accountKey
    },
    ownName,
    memberKey: async (name) => {
      const found = await directory.lookup(name, { timeoutMs: 8000 })
      if (found == null) throw new NotFoundError(`no user "${name}" in the overlay`)
      if (found.conflict != null)
        throw new NameConflictError(
          `the overlay holds more than one key for "${name}": pin their fingerprint first (kaiwa contact add)`,
        )
      const pinned = (await contacts.get(name))?.fingerprint
      const seen = fingerprint(found.record.publicKey)
      // A member's key goes into the signed log: it must be the key the user trusts.
      if (pinned != null && pinned !== seen)
        throw new KeyChangedError(
          `${name}'s key is now ${seen}, not the pinned ${pinned}; check it with them first`,
        )
      return found.record.publicKey
    },
    send: async (to, body) => {
      const me = await ownName()
      if (me == null) return { status: 403, reason: 'No user ID claimed' }
      const res = await sendMessage(
        sip().router,
        { fromUser: me, toUser: to, domain, text: body, contentType: GROUP_CONTENT_TYPE },
        node().peerId.toString(),
      )
      return { status: res.status, reason: res.reason }
    },
    log: log.child('groups'),
  })
}
