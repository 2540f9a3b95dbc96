/**
 * Resolves `kaiwa node`'s settings: flags override the config file
 * (`--config FILE`, else DIR/config.json when present), which overrides the
 * defaults. Bad multiaddrs are usage errors, reported before anything starts.
 * The config file may also set `bridgePort`, `sipPort`, `sipRate`, `mediaAnchor` and `overlay`;
 * the SIP password is only a flag or the generated DIR/sip-password file.
 */
import { parseDigestOption } from '../../overlay/sip/gateway/digest-auth.js'
import { networkInterfaces } from 'node:os'
import { defaultListenAddrs } from '../../overlay/node/listen-addrs.js'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { z } from 'zod'
import { SupernodeModeSchema } from '../../shared/api/contract.js'
import type { SupernodeMode } from '../../shared/api/contract.js'
import { DEFAULT_BOOTSTRAP, mergeBootstrap } from '../../shared/network/default-bootstrap.js'
import { DEFAULT_OVERLAY_DOMAIN } from '../../shared/sip/overlay-uri.js'
import { DEFAULT_SIP_PORT } from '../../overlay/sip/gateway/sip-gateway.js'
import type { SipGatewayTuning } from '../../overlay/sip/gateway/sip-gateway.js'
import { UsageError, isDomainName } from './args.js'
import type { NodeCommand } from './args.js'

export const ConfigFileSchema = z
  .object({
    bootstrap: z.array(z.string()).optional(),
    listen: z.array(z.string()).optional(),
    supernode: SupernodeModeSchema.optional(),
    mdns: z.boolean().optional(),
    upnp: z.boolean().optional(),
    sipPort: z.number().int().min(0).max(65535).optional(),
    turnPort: z.number().int().min(0).max(65535).optional(),
    bridgePort: z.number().int().min(0).max(65535).optional(),
    sipRate: z.number().int().positive().optional(),
    mediaAnchor: z.boolean().optional(),
    overlay: z.string().refine(isDomainName, 'a domain name such as kaiwa').optional(),
  })
  .strict()

export interface ResolvedNodeConfig {
  listen: string[]
  bootstrap: string[]
  supernode: SupernodeMode
  supernodeLocked: boolean
  mdns: boolean
  upnp: boolean
  overlayDomain: string
  /** 0: no gateway. */
  sipPort: number
  turnPort: number
  turnPortOptional: boolean
  /** Supernodes' port-443 bridge (0: off). */
  bridgePort: number
  /** The port was defaulted: if it cannot be bound, run without the bridge. */
  bridgePortOptional: boolean
  turnHost?: string
  turnRelayPorts?: readonly [number, number]
  /** CIDRs TURN may relay to although they are private or special-purpose. */
  turnAllowPeers?: readonly string[]
  /** What each TURN allocation may relay each way, kbit/s. */
  turnAllocationKbps?: number
  /** TURN relay threads (`--turn-workers`); default: one per CPU core, at most 4. */
  turnWorkers?: number
  /** The port was defaulted: if it is taken, run without the gateway. */
  sipPortOptional: boolean
  sipPassword?: string
  sipTuning?: Partial<SipGatewayTuning>
  /** Anchor phones' media at the node (default); false with `--no-media-anchor`. */
  mediaAnchor?: boolean
}

/** STUN/TURN's registered port (RFC 8489 §18.6); used only on supernodes. */
export const DEFAULT_TURN_PORT = 3478

/**
 * The bridge's default: 443, the one port a network that passes only HTTPS lets out. A
 * supernode that opts in to serve should be reachable there when it can bind it (root or
 * CAP_NET_BIND_SERVICE, port free); when it cannot, it runs without the bridge and says why.
 */
export const DEFAULT_BRIDGE_PORT = 443

/** IPv4 everywhere, plus IPv6 when the host has a routable IPv6 address (listen-addrs.ts). */
export function defaultListen(): string[] {
  return defaultListenAddrs(networkInterfaces())
}

export async function resolveNodeConfig(cmd: NodeCommand): Promise<ResolvedNodeConfig> {
  const file = await readConfigFile(
    cmd.config ?? join(cmd.dataDir, 'config.json'),
    cmd.config != null,
  )
  const listen = cmd.listen ?? file.listen ?? defaultListen()
  const bootstrap = mergeBootstrap(cmd.bootstrap ?? file.bootstrap ?? [], DEFAULT_BOOTSTRAP)
  for (const [flag, list] of [
    ['--listen', listen],
    ['--bootstrap', bootstrap],
  ] as const) {
    for (const a of list) {
      try {
        multiaddr(a)
      } catch {
        throw new UsageError(
          `${flag} "${a}" is not a valid multiaddr (e.g. /ip4/127.0.0.1/tcp/4001)`,
        )
      }
    }
  }
  const sipRate = cmd.sipRate ?? file.sipRate
  return {
    listen,
    bootstrap,
    // Serving others is opt-in: a user's node is a client unless told otherwise.
    supernode: cmd.supernode ?? file.supernode ?? 'off',
    supernodeLocked: cmd.supernode != null,
    mdns: cmd.mdns ?? file.mdns ?? true,
    upnp: cmd.upnp ?? file.upnp ?? true,
    overlayDomain: (cmd.overlay ?? file.overlay ?? DEFAULT_OVERLAY_DOMAIN).toLowerCase(),
    sipPort: cmd.sipPort ?? file.sipPort ?? DEFAULT_SIP_PORT,
    sipPortOptional: cmd.sipPort == null && file.sipPort == null,
    turnPort: cmd.turnPort ?? file.turnPort ?? DEFAULT_TURN_PORT,
    turnPortOptional: cmd.turnPort == null && file.turnPort == null,
    bridgePort: cmd.bridgePort ?? file.bridgePort ?? DEFAULT_BRIDGE_PORT,
    bridgePortOptional: cmd.bridgePort == null && file.bridgePort == null,
    ...(cmd.turnHost != null ? { turnHost: cmd.turnHost } : {}),
    ...(cmd.turnRelayPorts != null ? { turnRelayPorts: cmd.turnRelayPorts } : {}),
    ...(cmd.turnAllowPeers != null ? { turnAllowPeers: cmd.turnAllowPeers } : {}),
    ...(cmd.turnAllocationKbps != null ? { turnAllocationKbps: cmd.turnAllocationKbps } : {}),
    ...(cmd.turnWorkers != null ? { turnWorkers: cmd.turnWorkers } : {}),
    ...(cmd.sipPassword != null ? { sipPassword: cmd.sipPassword } : {}),
    ...((cmd.mediaAnchor ?? file.mediaAnchor) != null
      ? { mediaAnchor: cmd.mediaAnchor ?? file.mediaAnchor }
      : {}),
    ...(sipRate != null || cmd.sipDigest != null
      ? {
          sipTuning: {
            ...(sipRate != null ? { rateLimit: { perSecond: sipRate, burst: 2 * sipRate } } : {}),
            ...(cmd.sipDigest != null ? { algorithms: parseDigestOption(cmd.sipDigest) } : {}),
          },
        }
      : {}),
  }
}

async function readConfigFile(
  path: string,
  required: boolean,
): Promise<z.infer<typeof ConfigFileSchema>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`)
  }
  try {
    return ConfigFileSchema.parse(JSON.parse(text))
  } catch (err) {
    throw new UsageError(`config file ${path} is invalid: ${(err as Error).message}`)
  }
}
