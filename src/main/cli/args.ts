/**
 * Command-line parsing for `kaiwa`. Strict: an unknown flag or a bad value is a
 * usage error (exit 2), never silently ignored.
 */
import { DIGEST_OPTIONS } from '../../overlay/sip/gateway/digest-auth.js'
import type { DigestOption } from '../../overlay/sip/gateway/digest-auth.js'
import { parseAllowPeers } from '../../overlay/turn/turn-options.js'
import { parseArgs } from 'node:util'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { SupernodeModeSchema } from '../../shared/api/contract.js'
import type { SupernodeMode } from '../../shared/api/contract.js'
import { LOG_LEVELS } from '../../shared/logger.js'
import type { LogLevel } from '../../shared/logger.js'
import { KaiwaError } from '../../shared/errors.js'

export class UsageError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'UsageError'
  }
}

export const USAGE = `Usage:
  kaiwa node   [--data DIR] [--listen MULTIADDR]... [--bootstrap MULTIADDR]...
               [--supernode off|auto|on] [--api-port N] [--name NAME]
               [--sip-port N] [--sip-password P] [--sip-rate N] [--sip-digest md5|sha256|both]
               [--no-media-anchor]
               [--overlay NAME]
               [--turn-port N] [--turn-host ADDR] [--turn-relay-ports LO-HI]
               [--turn-allow-peers CIDR,...] [--turn-allocation-kbps N] [--turn-workers N]
               [--bridge-port N]
               [--ui] [--metrics-port N] [--join LINK]
               [--config FILE] [--no-mdns] [--no-upnp] [--log-level LEVEL]
  kaiwa claim  NAME [--data DIR]
  kaiwa lookup NAME [--data DIR]
  kaiwa status [--data DIR]
  kaiwa message NAME TEXT [--data DIR]   send an instant message (SIP MESSAGE)
  kaiwa inbox  [--data DIR]              received messages, as JSON
  kaiwa send-file NAME PATH [--data DIR] send a file (progress on stderr); exits once NAME
                                         has it, or once it is queued or mailed for later
  kaiwa files  [--data DIR]              received files (SHA-256 verified), as JSON
  kaiwa turn-credentials [--data DIR]    short-lived TURN credentials from a supernode, as JSON
  kaiwa invite [--data DIR]              a signed kaiwa: invite link to this network and user
  kaiwa group create NAME --members A,B,C | send GROUP TEXT | list | show GROUP
              | messages GROUP | add GROUP NAME | remove GROUP NAME | admin GROUP NAME
              | rename GROUP NAME | leave GROUP  [--data DIR]  group chat (kaiwa group help)
  kaiwa device list | remove ID [--data DIR]   this account's devices; remove one
  kaiwa help

  --data DIR        data directory (default: $KAIWA_DATA or ~/.kaiwa)
  --listen MA       libp2p listen address (default /ip4/0.0.0.0/tcp/0, plus
                    /ip6/::/tcp/0 when the host has a routable IPv6 address)
  --bootstrap MA    a peer to join through, e.g. /ip4/192.0.2.7/tcp/4001/p2p/12D3Koo...
  --supernode MODE  off (default): a client, serving nobody; on: a supernode (DHT
                    server, relay, TURN on 3478), which also starts a new network
                    when there is no bootstrap peer; auto: opt in and let the
                    election decide (a supernode when publicly reachable or
                    needed); auto never starts a new network on its own
  --join LINK       join the network of a kaiwa: invite link (from \`kaiwa invite\`):
                    its supernodes become bootstrap peers (kept in the settings)
                    and its user is added as a contact with the pinned key
  --api-port N      control API port on 127.0.0.1 (default 0: any free port)
  --name NAME       claim this user ID at start-up
  --turn-port N     STUN/TURN (UDP and TCP) on supernodes (default 3478; if taken,
                    run without TURN; 0: off)
  --bridge-port N   supernodes: one TCP port (default 443) for clients on networks that
                    allow only outbound TCP 443: the overlay over WebSocket-TLS and
                    TURN over TLS, told apart by their first bytes; if 443 cannot be
                    bound (in use, or no CAP_NET_BIND_SERVICE) the node warns and runs
                    without it; 0: off
  --sip-port N      local SIP gateway for phones, UDP and TCP on 127.0.0.1 (default
                    5060; if 5060 is taken the node runs without it; 0: off). A phone
                    registers there as sip:NAME@DOMAIN with digest auth
  --sip-password P  the phone's digest password (username = the user ID, realm = the
                    domain); default: generated once and kept in DIR/sip-password.
                    \`kaiwa status\` shows the address, username and password
  --no-media-anchor do not anchor phones' media at this node: SDP crosses the
                    gateway untouched (by default the node anchors it: plain RTP
                    to the phone, ICE and DTLS-SRTP across the overlay, so phones
                    reach app users and phones on other machines;
                    --media-anchor, the default, is still accepted)
  --sip-digest A    the digest challenges phones get: md5 (default: one MD5
                    challenge, qop=auth; baresip 1.0 registers only with this),
                    sha256, or both (MD5 first)
  --sip-rate N      gateway rate limit per source (UDP ip:port, TCP connection) in
                    messages per second, bursts up to 2N (default 5000); past it 503
  --overlay NAME    the overlay's SIP domain: sip:user@NAME is routed by the DHT
                    (default kaiwa)
  --turn-host ADDR  address STUN/TURN binds and announces (default 0.0.0.0,
                    announcing the node's own public or LAN address)
  --turn-relay-ports LO-HI
                    TURN relay port range (default 61000-65535, above Linux's
                    ephemeral range; a warning if it overlaps the host's)
  --turn-allow-peers CIDR[,CIDR...]
                    let TURN relay to these private/special ranges (a LAN-only
                    network); by default it refuses them with 403
  --turn-allocation-kbps N
                    what each TURN allocation may relay each way, kbit/s (default
                    4000; packets/s scale with it); the relayed-bandwidth cap in
                    Settings still bounds the total
  --turn-workers N  TURN relay threads sharing the port (SO_REUSEPORT), 1-64
                    (default: one per CPU core, at most 4; 1: relay in the node's
                    own thread)
  --ui              serve the softphone UI on the control API's address; the ready
                    line's "ui" URL opens it already logged in
  --metrics-port N  Prometheus metrics (text format) on 127.0.0.1:N/metrics (default:
                    off; opt-in)
  --config FILE     JSON file with {bootstrap, listen, supernode, mdns, upnp, sipPort,
                    turnPort, bridgePort, sipRate, mediaAnchor, overlay}
                    (default: DIR/config.json if it exists)
  --no-mdns         do not discover peers on the LAN with mDNS
  --no-upnp         do not ask the router for a port mapping (UPnP)
  --log-level L     debug|info|warn|error|silent (default info), to stderr
`

export interface NodeCommand {
  command: 'node'
  dataDir: string
  listen?: string[]
  bootstrap?: string[]
  supernode?: SupernodeMode
  apiPort: number
  name?: string
  /** Undefined: the default (5060, optional); 0: no gateway. */
  sipPort?: number
  sipPassword?: string
  sipRate?: number
  sipDigest?: DigestOption
  mediaAnchor?: boolean
  /** Undefined: the default (3478 on supernodes, optional); 0: no TURN. */
  turnPort?: number
  /** Undefined: the default (443 on supernodes, optional); 0: no bridge port. */
  bridgePort?: number
  overlay?: string
  config?: string
  mdns?: boolean
  upnp?: boolean
  turnHost?: string
  turnRelayPorts?: [number, number]
  turnAllowPeers?: string[]
  turnAllocationKbps?: number
  turnWorkers?: number
  /** Serve the UI bundle (headless web mode). */
  ui: boolean
  /** Prometheus metrics on loopback; undefined: off. */
  metricsPort?: number
  /** A `kaiwa:` invite link to join (`--join`). */
  join?: string
  logLevel: LogLevel
}
export interface ClientCommand {
  command:
    | 'claim'
    | 'lookup'
    | 'status'
    | 'message'
    | 'inbox'
    | 'turn-credentials'
    | 'invite'
    | 'send-file'
    | 'files'
  dataDir: string
  name?: string
  text?: string
  /** send-file: the file. */
  path?: string
}
export type Command = NodeCommand | ClientCommand | { command: 'help' }

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KAIWA_DATA != null && env.KAIWA_DATA !== ''
    ? env.KAIWA_DATA
    : join(homedir(), '.kaiwa')
}

export function parseCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Command {
  const [command, ...rest] = argv
  if (command == null || command === 'help' || command === '--help' || command === '-h') {
    return { command: 'help' }
  }
  if (command === 'node') return parseNode(rest, env)
  const arity: Record<string, string[]> = {
    claim: ['NAME'],
    lookup: ['NAME'],
    status: [],
    message: ['NAME', 'TEXT'],
    inbox: [],
    'turn-credentials': [],
    invite: [],
    'send-file': ['NAME', 'PATH'],
    files: [],
  }
  const wanted = arity[command]
  if (wanted != null) {
    const { values, positionals } = strictParse(rest, { data: { type: 'string' } }, true)
    if (positionals.length !== wanted.length) {
      throw new UsageError(
        wanted.length === 0
          ? `kaiwa ${command} takes no arguments`
          : wanted.length === 1
            ? `kaiwa ${command} needs exactly one ${wanted[0]}`
            : `kaiwa ${command} needs ${wanted.join(' and ')}`,
      )
    }
    return {
      command: command as ClientCommand['command'],
      dataDir: (values.data as string | undefined) ?? defaultDataDir(env),
      ...(wanted[0] === 'NAME' ? { name: positionals[0] } : {}),
      ...(wanted[1] === 'TEXT' ? { text: positionals[1] } : {}),
      ...(wanted[1] === 'PATH' ? { path: positionals[1] } : {}),
    }
  }
  throw new UsageError(`unknown command "${command}"`)
}

function parseNode(args: string[], env: NodeJS.ProcessEnv): NodeCommand {
  const { values } = strictParse(
    args,
    {
      data: { type: 'string' },
      listen: { type: 'string', multiple: true },
      bootstrap: { type: 'string', multiple: true },
      supernode: { type: 'string' },
      'api-port': { type: 'string' },
      name: { type: 'string' },
      'sip-port': { type: 'string' },
      'turn-port': { type: 'string' },
      'bridge-port': { type: 'string' },
      'sip-password': { type: 'string' },
      'sip-rate': { type: 'string' },
      'sip-digest': { type: 'string' },
      'media-anchor': { type: 'boolean' },
      'no-media-anchor': { type: 'boolean' },
      overlay: { type: 'string' },
      config: { type: 'string' },
      'no-mdns': { type: 'boolean' },
      ui: { type: 'boolean' },
      'turn-host': { type: 'string' },
      'turn-relay-ports': { type: 'string' },
      'turn-allow-peers': { type: 'string' },
      'turn-allocation-kbps': { type: 'string' },
      'turn-workers': { type: 'string' },
      'metrics-port': { type: 'string' },
      'no-upnp': { type: 'boolean' },
      'log-level': { type: 'string' },
      join: { type: 'string' },
    },
    false,
  )
  const supernode = values.supernode as string | undefined
  if (supernode != null && !SupernodeModeSchema.safeParse(supernode).success) {
    throw new UsageError(`--supernode must be off, auto or on (got "${supernode}")`)
  }
  const apiPortRaw = (values['api-port'] as string | undefined) ?? '0'
  const apiPort = Number(apiPortRaw)
  if (!/^\d+$/.test(apiPortRaw) || apiPort > 65535) {
    throw new UsageError(`--api-port must be a port number 0-65535 (got "${apiPortRaw}")`)
  }
  const sipPortRaw = values['sip-port'] as string | undefined
  if (sipPortRaw != null && (!/^\d+$/.test(sipPortRaw) || Number(sipPortRaw) > 65535)) {
    throw new UsageError(`--sip-port must be a port number 0-65535 (got "${sipPortRaw}")`)
  }
  const turnPortRaw = values['turn-port'] as string | undefined
  if (turnPortRaw != null && (!/^\d+$/.test(turnPortRaw) || Number(turnPortRaw) > 65535)) {
    throw new UsageError(`--turn-port must be a port number 0-65535 (got "${turnPortRaw}")`)
  }
  const bridgePortRaw = values['bridge-port'] as string | undefined
  if (bridgePortRaw != null && (!/^\d+$/.test(bridgePortRaw) || Number(bridgePortRaw) > 65535)) {
    throw new UsageError(`--bridge-port must be a port number 0-65535 (got "${bridgePortRaw}")`)
  }
  const sipPassword = values['sip-password'] as string | undefined
  // eslint-disable-next-line no-control-regex -- a password with control characters cannot be typed into a phone
  if (sipPassword != null && (sipPassword === '' || /[\x00-\x1f\x7f]/.test(sipPassword))) {
    throw new UsageError('--sip-password must be non-empty printable text')
  }
  const sipRateRaw = values['sip-rate'] as string | undefined
  if (sipRateRaw != null && (!/^\d+$/.test(sipRateRaw) || Number(sipRateRaw) < 1)) {
    throw new UsageError(`--sip-rate must be a positive whole number (got "${sipRateRaw}")`)
  }
  const sipDigest = values['sip-digest'] as string | undefined
  if (sipDigest != null && !(DIGEST_OPTIONS as readonly string[]).includes(sipDigest))
    throw new UsageError(
      `--sip-digest must be one of ${DIGEST_OPTIONS.join(', ')} (got "${sipDigest}")`,
    )
  const overlay = (values.overlay as string | undefined)?.toLowerCase()
  if (overlay != null && !isDomainName(overlay)) {
    throw new UsageError(
      `--overlay must be a domain name such as kaiwa or example.org (got "${overlay}")`,
    )
  }
  const turnHost = values['turn-host'] as string | undefined
  if (turnHost != null && !/^\d{1,3}(\.\d{1,3}){3}$/.test(turnHost))
    throw new UsageError(`--turn-host must be an IPv4 address (got "${turnHost}")`)
  const relayRaw = values['turn-relay-ports'] as string | undefined
  const relayM = relayRaw == null ? null : /^(\d{1,5})-(\d{1,5})$/.exec(relayRaw)
  if (
    relayRaw != null &&
    (relayM == null ||
      Number(relayM[1]) < 1024 ||
      Number(relayM[2]) > 65535 ||
      Number(relayM[1]) > Number(relayM[2]))
  )
    throw new UsageError(`--turn-relay-ports must be LO-HI within 1024-65535 (got "${relayRaw}")`)
  const allowRaw = values['turn-allow-peers'] as string | undefined
  let turnAllowPeers: string[] | undefined
  try {
    turnAllowPeers = allowRaw == null ? undefined : parseAllowPeers(allowRaw)
  } catch (err) {
    throw new UsageError(`--turn-allow-peers: ${(err as Error).message}`)
  }
  const allocRaw = values['turn-allocation-kbps'] as string | undefined
  if (allocRaw != null && (!/^\d{1,7}$/.test(allocRaw) || Number(allocRaw) < 1))
    throw new UsageError(
      `--turn-allocation-kbps must be a whole number of kbit/s, at least 1 (got "${allocRaw}")`,
    )
  const workersRaw = values['turn-workers'] as string | undefined
  if (
    workersRaw != null &&
    (!/^\d{1,2}$/.test(workersRaw) || !(Number(workersRaw) >= 1 && Number(workersRaw) <= 64))
  )
    throw new UsageError(`--turn-workers must be a number of threads, 1-64 (got "${workersRaw}")`)
  const metricsRaw = values['metrics-port'] as string | undefined
  if (metricsRaw != null && (!/^\d+$/.test(metricsRaw) || Number(metricsRaw) > 65535))
    throw new UsageError(`--metrics-port must be a port number 0-65535 (got "${metricsRaw}")`)
  const logLevel = ((values['log-level'] as string | undefined) ?? 'info') as LogLevel
  if (!LOG_LEVELS.includes(logLevel))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`)
  const join = values.join as string | undefined
  if (join != null && !/^kaiwa:/i.test(join.trim()))
    throw new UsageError(`--join takes a kaiwa: invite link, from kaiwa invite (got "${join}")`)
  return {
    command: 'node',
    dataDir: (values.data as string | undefined) ?? defaultDataDir(env),
    listen: values.listen as string[] | undefined,
    bootstrap: values.bootstrap as string[] | undefined,
    supernode: supernode as SupernodeMode | undefined,
    apiPort,
    name: values.name as string | undefined,
    ...(sipPortRaw != null ? { sipPort: Number(sipPortRaw) } : {}),
    ...(turnPortRaw != null ? { turnPort: Number(turnPortRaw) } : {}),
    ...(bridgePortRaw != null ? { bridgePort: Number(bridgePortRaw) } : {}),
    ...(sipPassword != null ? { sipPassword } : {}),
    ...(sipRateRaw != null ? { sipRate: Number(sipRateRaw) } : {}),
    ...(sipDigest != null ? { sipDigest: sipDigest as DigestOption } : {}),
    ...mediaAnchorFlag(values['media-anchor'] === true, values['no-media-anchor'] === true),
    ...(overlay != null ? { overlay } : {}),
    config: values.config as string | undefined,
    mdns: values['no-mdns'] === true ? false : undefined,
    upnp: values['no-upnp'] === true ? false : undefined,
    ui: values.ui === true,
    ...(turnHost != null ? { turnHost } : {}),
    ...(relayM != null ? { turnRelayPorts: [Number(relayM[1]), Number(relayM[2])] } : {}),
    ...(turnAllowPeers != null ? { turnAllowPeers } : {}),
    ...(allocRaw != null ? { turnAllocationKbps: Number(allocRaw) } : {}),
    ...(workersRaw != null ? { turnWorkers: Number(workersRaw) } : {}),
    ...(metricsRaw != null ? { metricsPort: Number(metricsRaw) } : {}),
    ...(join != null ? { join: join.trim() } : {}),
    logLevel,
  }
}

/** A DNS-style name (RFC 1035 §2.3.1 labels): the SIP domain in sip:user@NAME. */
export function isDomainName(s: string): boolean {
  return (
    s.length <= 253 &&
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(s)
  )
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options']

interface Parsed {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>
  positionals: string[]
}

function strictParse(args: string[], options: Options, allowPositionals: boolean): Parsed {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true }) as Parsed
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err))
  }
}

/** `--media-anchor` (the default, kept for old scripts) or `--no-media-anchor`; both is a mistake. */
function mediaAnchorFlag(on: boolean, off: boolean): { mediaAnchor?: boolean } {
  if (on && off) throw new UsageError('--media-anchor and --no-media-anchor contradict each other')
  if (off) return { mediaAnchor: false }
  return on ? { mediaAnchor: true } : {}
}
