/**
 * The control API contract: one typed description shared by the headless node's
 * HTTP/WebSocket server, the CLI client, the Electron preload and the renderer.
 * Every input and output is validated with zod at the boundary.
 */
import { z } from 'zod'

export * from './node-schemas.js'
export * from './file-schemas.js'
import { FileTransferJsonSchema, fileApiContract } from './file-schemas.js'
export * from './group-schemas.js'
import { GroupMessageJsonSchema, groupApiContract } from './group-schemas.js'
import { deviceApiContract } from './device-schemas.js'
import {
  ContactRecordJsonSchema,
  FileSettingsSchema,
  SettingsJsonSchema,
  StatusSchema,
  SupernodeCapsSchema,
  SupernodeModeSchema,
  UsageSchema,
} from './node-schemas.js'

/** Short-lived TURN credentials, usable as an RTCIceServer (urls, username, credential). */
export const TurnCredentialsSchema = z.object({
  username: z.string(),
  password: z.string(),
  realm: z.string(),
  expiresAt: z.number().int(),
  urls: z.array(z.string()),
  /** The supernode that issued them (its TURN server relays for them). */
  from: z.string(),
})

const NameInput = z.object({ name: z.string().min(1).max(64) })

export const StoredMessageJsonSchema = z.object({
  id: z.string(),
  direction: z.enum(['in', 'out']),
  peer: z.string(),
  from: z.string(),
  to: z.string(),
  date: z.string(),
  contentType: z.string(),
  text: z.string(),
  status: z.enum(['delivered', 'stored', 'failed', 'received']),
  code: z.number().int(),
  offline: z.boolean().optional(),
  /**
   * Incoming only: how the sender's account key (checked with its Identity
   * token, RFC 8224) compares with the contact's pinned key. verified: it is
   * the pinned key; new: no key pinned yet (first contact: compare
   * `fingerprint` out of band); mismatch: another key than the pinned one
   * (such messages are filed under a separate peer, never the contact's thread).
   */
  verification: z.enum(['verified', 'new', 'mismatch']).optional(),
  /** Fingerprint of the sender's account key, with `verification`. */
  fingerprint: z.string().optional(),
  /** A group message (issue 15 §2): the group it was sent to. */
  group: z.object({ id: z.string(), name: z.string() }).optional(),
})
export type StoredMessageJson = z.infer<typeof StoredMessageJsonSchema>

export const MessageResultSchema = z.object({
  /** delivered: a user agent of the recipient took it (2xx); stored: kept for later (202). */
  status: z.enum(['delivered', 'stored']),
  code: z.number().int(),
  reason: z.string(),
})

/**
 * A contact in the address book. The key seen when it was added is pinned
 * (trust on first use); `keyChanged` is true when the overlay now shows a
 * different key for that name, and the UI must warn loudly.
 */
export const ContactJsonSchema = z.object({
  name: z.string(),
  /** Fingerprint pinned when the contact was added (or last trusted). */
  fingerprint: z.string(),
  addedAt: z.string(),
  /** The fingerprint the overlay shows now; null when the name was not found. */
  currentFingerprint: z.string().nullable(),
  keyChanged: z.boolean(),
  /** Presence, from the freshness of the contact record (an unexpired device). */
  online: z.boolean(),
  /** When the newest record was issued; null if none was found. */
  lastSeen: z.string().nullable(),
})
export type ContactJson = z.infer<typeof ContactJsonSchema>

export const ConversationJsonSchema = z.object({
  peer: z.string(),
  last: StoredMessageJsonSchema,
  unread: z.number().int().nonnegative(),
})
export type ConversationJson = z.infer<typeof ConversationJsonSchema>

export const CallDirectionSchema = z.enum(['in', 'out'])
export const CallOutcomeSchema = z.enum(['answered', 'missed', 'declined', 'failed', 'cancelled'])
export const MediaPathSchema = z.enum(['direct', 'relay', 'unknown'])
export type MediaPath = z.infer<typeof MediaPathSchema>

export const CallRecordJsonSchema = z.object({
  id: z.string().min(1).max(128),
  /** A user ID, or `alice (unverified key FP)` for a caller whose key was not the pinned one. */
  peer: z.string().min(1).max(80),
  direction: CallDirectionSchema,
  outcome: CallOutcomeSchema,
  startedAt: z.string(),
  answeredAt: z.string().nullable(),
  endedAt: z.string(),
  path: MediaPathSchema,
  /**
   * Where the far end's media was anchored (src/shared/sip/media-anchor.ts):
   * `phone` is a plain SIP phone behind that user's node, so the call was
   * encrypted only as far as that node. Absent for an end-to-end call.
   */
  anchor: z.enum(['phone']).optional(),
})
export type CallRecordJson = z.infer<typeof CallRecordJsonSchema>

/** One RTCIceServer, as the renderer's RTCPeerConnection takes it. */
export const IceServerSchema = z.object({
  urls: z.array(z.string()),
  username: z.string().optional(),
  credential: z.string().optional(),
})
export type IceServer = z.infer<typeof IceServerSchema>

export const AboutSchema = z.object({
  app: z.string(),
  versions: z.record(z.string(), z.string()),
  dataDir: z.string(),
})

/** A user ID, or the `alice (unverified key FP)` thread of a key other than the pinned one. */
const PeerInput = z.object({ peer: z.string().min(1).max(80) })

/**
 * Methods of the control API. Each is served as `POST /api/v1/<method>` with a
 * JSON body, and as a WebSocket request `{id, method, params}`.
 */
export const apiContract = {
  status: { input: z.object({}).strict(), output: StatusSchema },
  claim: { input: NameInput.strict(), output: z.object({ record: ContactRecordJsonSchema }) },
  lookup: {
    input: NameInput.strict(),
    output: z.object({
      record: ContactRecordJsonSchema,
      /**
       * The closest nodes hold different keys for the name (docs/security.md):
       * every key with how many responders hold it, the routing one first.
       * Never pin from such a lookup.
       */
      conflict: z
        .object({
          keys: z.array(z.object({ fingerprint: z.string(), count: z.number().int() })),
        })
        .nullable()
        .optional(),
    }),
  },
  message: {
    input: z
      .object({ to: z.string().min(1).max(64), text: z.string().min(1).max(16_000) })
      .strict(),
    output: MessageResultSchema,
  },
  turnCredentials: { input: z.object({}).strict(), output: TurnCredentialsSchema },
  inbox: {
    input: z.object({ limit: z.number().int().positive().max(10_000).optional() }).strict(),
    output: z.object({ messages: z.array(StoredMessageJsonSchema) }),
  },
  /** Messages exchanged with one user, oldest first (the newest `limit`). */
  conversation: {
    input: PeerInput.extend({ limit: z.number().int().positive().max(10_000).optional() }).strict(),
    output: z.object({ messages: z.array(StoredMessageJsonSchema) }),
  },
  /** One entry per user messaged with, newest first, with unread counts. */
  conversations: {
    input: z.object({}).strict(),
    output: z.object({ conversations: z.array(ConversationJsonSchema) }),
  },
  /** Everything received from `peer` up to now counts as read. */
  markRead: { input: PeerInput.strict(), output: z.object({}) },
  contacts: {
    input: z.object({}).strict(),
    output: z.object({ contacts: z.array(ContactJsonSchema) }),
  },
  /**
   * Add by user ID (or a `kaiwa:` link's `name#fingerprint`): looks the name
   * up and pins its key. With `fingerprint`, the key must match it
   * (`key_changed` otherwise) and trust on first use is skipped.
   */
  contactAdd: {
    input: NameInput.extend({ fingerprint: z.string().min(1).max(128).optional() }).strict(),
    output: z.object({ contact: ContactJsonSchema }),
  },
  contactRemove: { input: NameInput.strict(), output: z.object({}) },
  /** Accept the key the overlay now shows for a contact whose key changed. */
  contactTrust: { input: NameInput.strict(), output: z.object({ contact: ContactJsonSchema }) },
  calls: {
    input: z.object({ limit: z.number().int().positive().max(10_000).optional() }).strict(),
    output: z.object({ calls: z.array(CallRecordJsonSchema) }),
  },
  /**
   * A call to `name` is being set up: look it up and open the overlay links
   * now, while the UI gathers ICE, so the INVITE finds the route warm.
   */
  prepareCall: { input: NameInput.strict(), output: z.object({ devices: z.number().int() }) },
  /** The UI records each finished call here (the node sees only signalling). */
  callLog: { input: CallRecordJsonSchema.strict(), output: z.object({}) },
  /** STUN and TURN servers (with fresh credentials) for the UI's calls. */
  iceServers: {
    input: z.object({}).strict(),
    output: z.object({ iceServers: z.array(IceServerSchema), expiresAt: z.number().int() }),
  },
  settings: { input: z.object({}).strict(), output: SettingsJsonSchema },
  /** Change settings; a new supernode mode takes effect at once. */
  settingsUpdate: {
    input: z
      .object({
        supernodeMode: SupernodeModeSchema.optional(),
        caps: SupernodeCapsSchema.partial().optional(),
        files: FileSettingsSchema.partial().optional(),
      })
      .strict(),
    output: SettingsJsonSchema,
  },
  usage: { input: z.object({}).strict(), output: UsageSchema },
  /** The account key and user ID, encrypted with a passphrase (scrypt + XChaCha20-Poly1305). */
  identityExport: {
    input: z.object({ passphrase: z.string().min(8).max(1024) }).strict(),
    output: z.object({ backup: z.string() }),
  },
  /**
   * Restore an exported account on this device (first run only: refused with
   * `conflict` once a user ID is claimed here). This device joins the account
   * as one more device of the same user ID.
   */
  identityImport: {
    input: z
      .object({ backup: z.string().min(1).max(16_384), passphrase: z.string().max(1024) })
      .strict(),
    output: z.object({ name: z.string().nullable(), fingerprint: z.string() }),
  },
  /**
   * A signed `kaiwa:` invite link for this account (README "Joining a
   * network"): the user ID, key fingerprint, up to 4 live supernode
   * addresses and an expiry. Refused (409) before a user ID is claimed and
   * (503) while the node knows no supernode.
   */
  invite: {
    input: z.object({}).strict(),
    output: z.object({
      link: z.string(),
      supernodes: z.array(z.string()),
      expiresAt: z.string(),
    }),
  },
  /**
   * Join the network of an invite link: verify it (a changed or expired link
   * is refused with 400), save its supernodes as bootstrap peers, dial them,
   * and pin the inviting user as a contact with the link's fingerprint.
   */
  joinInvite: {
    input: z.object({ link: z.string().min(1).max(4096) }).strict(),
    output: z.object({
      name: z.string(),
      fingerprint: z.string(),
      supernodes: z.array(z.string()),
      /** How many of the supernodes answered now. */
      connected: z.number().int().nonnegative(),
      contact: ContactJsonSchema,
    }),
  },
  /** The node's recent log lines, for "export logs". */
  logs: { input: z.object({}).strict(), output: z.object({ text: z.string() }) },
  about: { input: z.object({}).strict(), output: AboutSchema },
  ...fileApiContract,
  ...groupApiContract,
  ...deviceApiContract,
} as const

/**
 * Events the node pushes (WebSocket `{event, data}` frames, or the preload's
 * onEvent). `message`: a message was received or changed status.
 */
export const apiEvents = {
  status: StatusSchema,
  message: StoredMessageJsonSchema,
  usage: UsageSchema,
  /** A group message was stored (sent or received). */
  groupMessage: GroupMessageJsonSchema,
  /**
   * A group was created, joined, left, renamed, had members or admins
   * changed, or was read, here or on another device of the account, with no
   * message to carry the news: the UI reloads its groups.
   */
  groupChanged: z.object({ group: z.string() }),
  /** A file transfer changed (offered, progress, finished). */
  transfer: FileTransferJsonSchema,
} as const
export type ApiEventName = keyof typeof apiEvents
export type ApiEvent = {
  [E in ApiEventName]: { event: E; data: z.infer<(typeof apiEvents)[E]> }
}[ApiEventName]

export type ApiContract = typeof apiContract
export type ApiMethod = keyof ApiContract
export type ApiInput<M extends ApiMethod> = z.input<ApiContract[M]['input']>
export type ApiOutput<M extends ApiMethod> = z.infer<ApiContract[M]['output']>

/** What a server implements and what a client exposes: one async function per method. */
export type KaiwaApi = { [M in ApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>> }

export const ApiErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
})
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>

/** WebSocket frames. Requests carry an id; replies echo it; events have none. */
export const WsRequestSchema = z.object({
  id: z.number().int(),
  method: z.string(),
  params: z.unknown().optional(),
})
export const WsReplySchema = z.union([
  z.object({ id: z.number().int(), result: z.unknown() }),
  z.object({ id: z.number().int(), error: z.object({ code: z.string(), message: z.string() }) }),
  z.object({ event: z.string(), data: z.unknown() }),
])

export const API_PREFIX = '/api/v1'
/** Browsers cannot set headers on WebSocket upgrades; the token rides in a subprotocol. */
export const WS_TOKEN_PROTOCOL_PREFIX = 'kaiwa.token.'
