/**
 * The node's own state in the control API contract (contract.ts re-exports
 * all of it): roles and modes, records as JSON, settings and caps, usage, and
 * the status report. Split from contract.ts, which lists the methods.
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

/** Caps a supernode operator sets on what the node spends for others (0: no service). */
export const SupernodeCapsSchema = z.object({
  /** Relayed bandwidth (TURN media plus circuit-relay signalling), kbit/s. */
  relayKbps: z.number().int().nonnegative().max(10_000_000),
  /** Concurrent relayed calls (TURN allocations). */
  relayedCalls: z.number().int().nonnegative().max(100_000),
  /** Storage for others: DHT records plus offline mail, MiB. */
  storageMiB: z.number().int().nonnegative().max(1_000_000),
})
export type SupernodeCaps = z.infer<typeof SupernodeCapsSchema>

/** File transfer settings (issue 15): what arrives without asking, the limit, the folder. */
export const FileSettingsSchema = z.object({
  /** Files from pinned contacts up to this size (MiB) are accepted without asking; 0: always ask. */
  autoAcceptMiB: z.number().int().nonnegative().max(1_000_000),
  /** Offers of larger files (MiB) are refused with a clear error. */
  maxMiB: z.number().int().positive().max(1_000_000),
  /** The folder received files go to (absolute). */
  receiveDir: z.string().min(1).max(4096),
})
export type FileSettings = z.infer<typeof FileSettingsSchema>

export const SettingsJsonSchema = z.object({
  supernodeMode: SupernodeModeSchema,
  caps: SupernodeCapsSchema,
  /** Absent only from nodes older than file transfer. */
  files: FileSettingsSchema.optional(),
})
export type SettingsJson = z.infer<typeof SettingsJsonSchema>

/**
 * What this node spends for others, as a supernode (all zero on a client), and
 * the caps that bound it. Shown in Settings and by `kaiwa status`.
 */
export const UsageSchema = z.object({
  role: RoleSchema,
  bytesRelayed: z.number().nonnegative(),
  relayKbps: z.number().nonnegative(),
  relayedCalls: z.number().int().nonnegative(),
  peersServed: z.number().int().nonnegative(),
  recordsStored: z.number().int().nonnegative(),
  mailboxBytes: z.number().int().nonnegative(),
  mailboxMessages: z.number().int().nonnegative(),
  caps: SupernodeCapsSchema,
})
export type Usage = z.infer<typeof UsageSchema>

export const StatusSchema = z.object({
  peerId: z.string(),
  role: RoleSchema,
  supernodeMode: SupernodeModeSchema,
  name: z.string().nullable(),
  fingerprint: z.string(),
  addrs: z.array(z.string()),
  peers: z.number().int().nonnegative(),
  supernodes: z.array(z.string()),
  /** Set when a client has no supernode: it is on no network (or a LAN-only one), and how to join one. */
  hint: z.string().optional(),
  /**
   * How this node reaches others (issue 13): `overlay` (a supernode, or
   * attached to one), `lan-only` (no supernode, but LAN peers: names and calls
   * among them), `alone`. Absent from nodes older than LAN-only networks.
   */
  network: z.enum(['overlay', 'lan-only', 'alone']).optional(),
  /** Connected peers on this LAN that serve LAN names. */
  lanPeers: z.number().int().nonnegative().optional(),
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
  /** What this node spends for others, and the caps on it. */
  usage: UsageSchema,
  /**
   * Open libp2p connections and how each runs: `tcp` (direct), `webrtc`
   * (hole-punched, ICE), `relay` (through a supernode's circuit relay).
   */
  connections: z.array(
    z.object({
      peer: z.string(),
      remoteAddr: z.string(),
      direction: z.enum(['inbound', 'outbound']),
      transport: z.enum(['tcp', 'webrtc', 'relay', 'other']),
      limited: z.boolean(),
      openedAt: z.string(),
    }),
  ),
  /**
   * Stored entries that could not be read and were moved to quarantine (kept,
   * not deleted; see docs/storage.md). Absent from nodes that do not report it.
   */
  /**
   * This node's clock against the supernodes' median (src/shared/clock/): `warn`
   * from 2 minutes off, with a message that says how to fix it.
   */
  clock: z
    .object({
      state: z.enum(['ok', 'warn', 'unknown']),
      offsetMs: z.number().nullable(),
      samples: z.number().int().nonnegative(),
      message: z.string(),
    })
    .optional(),
  storage: z
    .object({
      quarantined: z.number().int().nonnegative(),
      entries: z.array(
        z.object({ collection: z.string(), key: z.string(), reason: z.string(), at: z.string() }),
      ),
    })
    .optional(),
})
export type Status = z.infer<typeof StatusSchema>
