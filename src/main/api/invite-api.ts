/**
 * Invites (issue 13): `invite` signs a `kaiwa:` link for this account with
 * live supernode addresses; `joinInvite` verifies one, saves its supernodes as
 * bootstrap peers (settings `bootstrap`, dialled at every start), dials them
 * now, and pins the inviting user through contactAdd with the link's
 * fingerprint. The link format is src/shared/invite/invite-link.ts.
 */
import { isLoopback, isPrivate } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { KaiwaApi } from '../../shared/api/contract.js'
import {
  ConflictError,
  KeyChangedError,
  NameConflictError,
  ServiceUnavailableError,
} from '../../shared/errors.js'
import { InvalidInviteError } from '../../shared/invite/invite-errors.js'
import {
  createInviteLink,
  MAX_INVITE_SUPERNODES,
  openInviteLink,
} from '../../shared/invite/invite-link.js'
import { mergeBootstrap } from '../../shared/network/default-bootstrap.js'
import { MAX_STORED_BOOTSTRAP } from '../../overlay/store/migrations/settings.js'
import type { ApiComponents } from './api-components.js'

export type InviteApi = Pick<KaiwaApi, 'invite' | 'joinInvite'>

export interface InviteApiInit {
  node: ApiComponents
  /** The UI API's contactAdd: the one path that pins a key. */
  contactAdd: KaiwaApi['contactAdd']
  /** How long to keep trying to look the inviting user up after dialling (default 20 s). */
  pinTimeoutMs?: number
}

const DIAL_TIMEOUT_MS = 10_000

/**
 * Public addresses first, then LAN, then loopback: the likeliest to work for the invitee. Within
 * each, plain TCP before the port-443 bridge (`/tls/ws`), which comes next so that a supernode's
 * second pick lets an invitee behind a 443-only firewall in (README "Port-443-only networks").
 */
function rank(ma: Multiaddr): number {
  const bridge = ma.toString().includes('/tls/ws') ? 0.5 : 0
  if (isLoopback(ma)) return 2 + bridge
  return (isPrivate(ma) ? 1 : 0) + bridge
}

/** The bridge's WebSocket over TLS, or no WebSocket at all (plain /ws is for browsers). */
const dialableTransport = (s: string): boolean => !s.includes('/ws') || s.includes('/tls/ws')

/** Direct TCP addresses a stranger can dial (no relay circuits, no plain WebSocket). */
export function dialable(addrs: Multiaddr[]): Multiaddr[] {
  return addrs
    .filter((a) => {
      const s = a.toString()
      return s.includes('/tcp/') && !s.includes('/p2p-circuit') && dialableTransport(s)
    })
    .sort((a, b) => rank(a) - rank(b))
}

function withPeer(ma: Multiaddr, peer: string): string {
  const s = ma.toString()
  return s.includes('/p2p/') ? s : `${s}/p2p/${peer}`
}

/** Up to MAX_INVITE_SUPERNODES addresses: one per supernode first, then more of each. */
export async function inviteSupernodes(node: ApiComponents): Promise<string[]> {
  const libp2p = node.libp2p()
  const candidates: string[][] = []
  if (node.roles.role() === 'supernode') {
    candidates.push(
      dialable(libp2p.getMultiaddrs()).map((a) => withPeer(a, libp2p.peerId.toString())),
    )
  }
  for (const peer of node.supernodes.connected()) {
    const conn = libp2p.getConnections().find((c) => c.remotePeer.toString() === peer)
    if (conn == null) continue
    const known = await libp2p.peerStore
      .get(conn.remotePeer)
      .then((p) => p.addresses.map((a) => a.multiaddr))
      .catch(() => [] as Multiaddr[])
    const outbound = conn.direction === 'outbound' ? [conn.remoteAddr] : []
    candidates.push(dialable([...outbound, ...known]).map((a) => withPeer(a, peer)))
  }
  const out: string[] = []
  for (let round = 0; out.length < MAX_INVITE_SUPERNODES; round++) {
    const picks = candidates.map((c) => c[round]).filter((a): a is string => a != null)
    if (picks.length === 0) break
    for (const a of picks) if (!out.includes(a) && out.length < MAX_INVITE_SUPERNODES) out.push(a)
  }
  return out
}

/** Errors worth retrying while the DHT fills after the first dial. */
function retryable(err: unknown): boolean {
  return !(
    err instanceof KeyChangedError ||
    err instanceof NameConflictError ||
    err instanceof InvalidInviteError
  )
}

export function createInviteApi(init: InviteApiInit): InviteApi {
  const { node } = init
  return {
    invite: async () => {
      const { name } = await node.settings.get()
      if (name == null)
        throw new ConflictError(
          "claim a user ID first (kaiwa claim NAME, or the app's first run): " +
            'an invite says who invites',
        )
      const supernodes = await inviteSupernodes(node)
      if (supernodes.length === 0)
        throw new ServiceUnavailableError(
          'this node is connected to no supernode, so an invite could not say how to reach ' +
            'the network; join one first (or start one with --supernode on)',
        )
      const now = Date.now()
      const link = await createInviteLink({
        name,
        accountKey: node.account.accountKey,
        supernodes,
        now,
      })
      const { expiresAt } = await openInviteLink(link, now)
      return { link, supernodes, expiresAt: new Date(expiresAt).toISOString() }
    },
    joinInvite: async ({ link }) => {
      const invite = await openInviteLink(link, Date.now())
      const current = await node.settings.get()
      await node.settings.update({
        bootstrap: mergeBootstrap(invite.supernodes, current.bootstrap ?? []).slice(
          0,
          MAX_STORED_BOOTSTRAP,
        ),
      })
      const libp2p = node.libp2p()
      const dials = await Promise.allSettled(
        invite.supernodes.map((a) =>
          libp2p.dial(multiaddr(a), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }),
        ),
      )
      const connected = dials.filter((d) => d.status === 'fulfilled').length
      if (connected === 0)
        throw new ServiceUnavailableError(
          `none of the invite's ${invite.supernodes.length} supernodes answered; they are ` +
            'saved and tried again at every start. Check your connection, or ask ' +
            `${invite.name} for a new invite`,
        )
      const deadline = Date.now() + (init.pinTimeoutMs ?? 20_000)
      for (;;) {
        try {
          const { contact } = await init.contactAdd({
            name: invite.name,
            fingerprint: invite.fingerprint,
          })
          return {
            name: invite.name,
            fingerprint: invite.fingerprint,
            supernodes: invite.supernodes,
            connected,
            contact,
          }
        } catch (err) {
          // Right after the first dial the DHT may not know the name yet.
          if (!retryable(err) || Date.now() > deadline) throw err
          await new Promise((r) => setTimeout(r, 1000))
        }
      }
    },
  }
}
