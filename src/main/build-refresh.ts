/**
 * The refresh loop's part of the composition root (kaiwa-node.ts buildParts):
 * republishing the contact record as a SIP UA refreshes its registration
 * (RFC 3261 §10.2.4), then greeting new devices and collecting mail.
 */
import { CONTACT_REFRESH_MS } from '../shared/records/record-policy.js'
import type { Logger } from '../shared/logger.js'
import type { UserDirectory } from '../overlay/names/user-directory.js'
import { RefreshLoop } from '../overlay/node/refresh-loop.js'
import type { SipService } from '../overlay/sip/sip-service.js'
import type { SyncParts } from './build-sync.js'
import type { NodeBase } from './node-base.js'

/** Republish this device like a SIP UA refreshing its registration; collect mail after. */
export function buildRefresh(
  base: Pick<NodeBase, 'settings'>,
  directory: UserDirectory,
  sip: SipService,
  sync: Pick<SyncParts, 'sync'>,
  log: Logger,
) {
  return new RefreshLoop({
    intervalMs: CONTACT_REFRESH_MS,
    log: log.child('refresh'),
    run: async () => {
      const { name } = await base.settings.get()
      if (name == null) return
      // A device another device removed from the account no longer publishes under it.
      if (await sync.sync.selfRemoved()) return
      const { record } = await directory.publish(name)
      // Devices of the account seen for the first time get a snapshot (account sync).
      void sync.sync.recordSeen(record).catch((err) => log.debug(`sync: ${String(err)}`))
      // Mail may have been stored for us while we were unreachable.
      void sip.collectOfflineMail().catch((err) => log.debug(`offline mail: ${String(err)}`))
    },
  })
}
