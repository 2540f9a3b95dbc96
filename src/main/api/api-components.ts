/**
 * The slice of a running node that the control API uses (js-libp2p's
 * "components" idea): the API takes exactly this, never the whole node, so it
 * cannot reach into wiring it has no business with, and the composition root
 * is the only file that knows how the pieces are built.
 */
import type { Ed25519PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { MailboxStore } from '../../overlay/mailbox/mailbox-store.js'
import type { KaiwaLibp2p } from '../../overlay/node/libp2p-factory.js'
import type { RoleController } from '../../overlay/node/role-controller.js'
import type { SettingsStore } from '../../overlay/store/settings-store.js'
import type { SipService } from '../../overlay/sip/sip-service.js'
import type { FileTransfers } from '../../overlay/files/file-transfers.js'
import type { TurnService } from '../../overlay/turn/turn-service.js'
import type { GroupsComponent } from './group-api.js'
import type { DevicesComponent } from './device-api.js'
import type { PublishResult, UserDirectory } from '../../overlay/names/user-directory.js'

export interface ApiComponents {
  /** The current libp2p instance (it changes with the role). */
  libp2p: () => KaiwaLibp2p
  roles: Pick<RoleController, 'mode' | 'role' | 'setMode'>
  settings: SettingsStore
  /** Read on use: restoring a backup replaces the account key. */
  account: { readonly accountKey: Ed25519PrivateKey }
  directory: Pick<UserDirectory, 'lookup'>
  sip: Pick<SipService, 'gatewayStatus' | 'router' | 'history' | 'prepare'>
  files: Pick<
    FileTransfers,
    'send' | 'list' | 'received' | 'accept' | 'incoming' | 'outgoing' | 'view' | 'onChange'
  >
  /** Group chat (issue 15 §2). */
  groups: GroupsComponent
  /** The account's devices (issue 15 §3). */
  devices: DevicesComponent
  turn: Pick<TurnService, 'status' | 'credentials' | 'reusableCredentials' | 'setCaps'>
  mailbox: Pick<MailboxStore, 'usage' | 'setMaxTotalBytes'>
  /** Connected supernodes of the current instance. */
  supernodes: { connected(): string[]; isSupernode(peer: string): boolean }
  /** Claim a user ID for this account and publish this device under it. */
  claim: (name: string) => Promise<PublishResult>
  /** The overlay's SIP domain. */
  domain: string
  dataDir: string
  datastore: Datastore
}
