/**
 * Start-up entry point of versioned storage: checks and migrates every stored
 * collection of the node, before anything reads one. Call it once, right after
 * the data directory is opened:
 *
 *     await migrateAll(data.datastore, log)
 *
 * It throws StorageVersionError (a DataDirError) if any collection was written
 * by a newer Kaiwa, having changed nothing in any collection; the identity is
 * checked first and only ever read. Every store also opens its own collection
 * on first use, so a caller that skips this still gets migrated data, only later.
 */
import type { Datastore } from 'interface-datastore'
import type { Logger } from '../../shared/logger.js'
import { callsCollection } from './migrations/calls.js'
import { contactsCollection } from './migrations/contacts.js'
import { checkIdentityVersion } from './migrations/identity.js'
import { incomingFilesCollection, outgoingFilesCollection } from './migrations/files.js'
import { groupMessagesCollection, groupsCollection } from './migrations/groups.js'
import { messagesCollection } from './migrations/messages.js'
import { readMarksCollection } from './migrations/read-marks.js'
import { settingsCollection } from './migrations/settings.js'
import {
  devicesCollection,
  syncContactsCollection,
  syncIndexCollection,
  syncOutboxCollection,
} from './migrations/sync.js'
import {
  phoneBindingsCollection,
  phoneMailCollection,
  sipNonceKeyCollection,
} from './migrations/sip-gateway.js'
import { readSchemaRecord } from './schema-version.js'
import { StorageVersionError } from './storage-errors.js'
import { openCollection } from './versioned-collection.js'
import type { CollectionSpec, OpenReport } from './versioned-collection.js'

export { storageHealth } from './quarantine.js'
export type { StorageHealth, QuarantinedEntry } from './quarantine.js'

/** Every collection migrateAll opens, in the order it opens them. */
export const STORED_COLLECTIONS: readonly CollectionSpec[] = [
  settingsCollection,
  contactsCollection,
  callsCollection,
  readMarksCollection,
  messagesCollection,
  sipNonceKeyCollection,
  phoneBindingsCollection,
  phoneMailCollection,
  outgoingFilesCollection,
  incomingFilesCollection,
  groupsCollection,
  groupMessagesCollection,
  devicesCollection,
  syncIndexCollection,
  syncContactsCollection,
  syncOutboxCollection,
]

export async function migrateAll(datastore: Datastore, log?: Logger): Promise<OpenReport[]> {
  const reports = [await checkIdentityVersion(datastore)]
  // Refuse a downgrade before migrating anything, so a refusal leaves every collection as it was.
  for (const spec of STORED_COLLECTIONS) {
    const record = await readSchemaRecord(datastore, spec.name)
    if (typeof record === 'object' && record.version > spec.version)
      throw new StorageVersionError(spec.name, record.version, spec.version)
  }
  for (const spec of STORED_COLLECTIONS)
    reports.push(await openCollection(datastore, spec, { log }))
  return reports
}
