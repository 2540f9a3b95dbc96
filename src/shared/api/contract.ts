/**
 * The control API contract: one typed description shared by the headless node's
 * HTTP/WebSocket server, the CLI client, the Electron preload and the renderer.
 * Every input and output is validated with zod at the boundary.
 */
import { z } from 'zod'

export const SupernodeModeSchema = z.enum(['off', 'auto', 'on'])
export type SupernodeMode = z.infer<typeof SupernodeModeSchema>

export const RoleSchema = z.enum(['client', 'supernode'])
export type Role = z.infer<typeof RoleSchema>

export const DeviceJsonSchema = z.object({
  peerId: z.string(),
  addrs: z.array(z.string()),
  expiresAt: z.string(),
})

/** The JSON view of a signed contact record (what `kaiwa lookup` prints). */
export const ContactRecordJsonSchema = z.object({
  name: z.string(),
  publicKey: z.string(),
  fingerprint: z.string(),
  seq: z.number().int().nonnegative(),
  claimedAt: z.string(),
  issuedAt: z.string(),
  expiresAt: z.string(),
  devices: z.array(DeviceJsonSchema),
  online: z.boolean(),
})
export type ContactRecordJson = z.infer<typeof ContactRecordJsonSchema>

/**
 * The local SIP gateway, for configuring a phone: registrar/outbound proxy
 * address, SIP domain (the digest realm), digest username (the user ID, null
 * before one is claimed) and password. Served only to token holders on loopback.
 */
export const SipGatewayStatusSchema = z.object({
  address: z.string(),
  domain: z.string(),
  username: z.string().nullable(),
  password: z.string(),
})
export type SipGatewayStatus = z.infer<typeof SipGatewayStatusSchema>

export const StatusSchema = z.object({
  peerId: z.string(),
  role: RoleSchema,
  supernodeMode: SupernodeModeSchema,
  name: z.string().nullable(),
  fingerprint: z.string(),
  addrs: z.array(z.string()),
  peers: z.number().int().nonnegative(),
  supernodes: z.array(z.string()),
  reachability: z.enum(['unknown', 'public', 'private']),
  recordsHeld: z.number().int().nonnegative(),
  uptimeSeconds: z.number().nonnegative(),
  sip: SipGatewayStatusSchema.nullable(),
  /** STUN/TURN on this node (supernodes only), with its relay figures. */
  turn: z
    .object({
      address: z.string(),
      urls: z.array(z.string()),
      stats: z.record(z.string(), z.number()),
    })
    .nullable(),
})
export type Status = z.infer<typeof StatusSchema>

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
})
export type StoredMessageJson = z.infer<typeof StoredMessageJsonSchema>

export const MessageResultSchema = z.object({
  /** delivered: a user agent of the recipient took it (2xx); stored: kept for later (202). */
  status: z.enum(['delivered', 'stored']),
  code: z.number().int(),
  reason: z.string(),
})

/**
 * Methods of the control API. Each is served as `POST /api/v1/<method>` with a
 * JSON body, and as a WebSocket request `{id, method, params}`.
 */
export const apiContract = {
  status: { input: z.object({}).strict(), output: StatusSchema },
  claim: { input: NameInput.strict(), output: z.object({ record: ContactRecordJsonSchema }) },
  lookup: { input: NameInput.strict(), output: z.object({ record: ContactRecordJsonSchema }) },
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
} as const

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
