/**
 * The ~1% supernode election, run by every `auto` node (issue 4, design.md
 * "About 1%"). Every interval (with jitter, so a network does not decide in
 * lockstep) the node asks a sample of the supernodes it is connected to for
 * their load (`/kaiwa/load/1.0.0`), checks its own capability, and lets the
 * pure policy (src/shared/election/decide.ts) say promote, demote or stay.
 *
 * A supernode that steps down first announces it in its load reports for a
 * hand-off period, so its clients attach elsewhere (RelayKeeper skips it)
 * before it leaves; then it rebuilds as a client.
 *
 * Capability, as measured here: public reachability is an AutoNAT-confirmed
 * public address; the TURN port is taken as reachable with it when TURN is on
 * (it listens on the same host; a supernode whose TURN nobody can reach shows
 * zero allocations in its usage); uplink is the relay bandwidth the user
 * allows (caps.relayKbps), since that is what the node will spend; uptime is
 * time since start.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Role, SupernodeCaps } from '../../shared/api/contract.js'
import type { Logger } from '../../shared/logger.js'
import { checkCapability, DEFAULT_CAPABILITY_THRESHOLDS } from '../../shared/election/capability.js'
import type { CapabilityThresholds } from '../../shared/election/capability.js'
import { decide, DECIDE_INTERVAL_MS, LOAD_SAMPLE_SIZE } from '../../shared/election/decide.js'
import type { ElectionDecision, ElectionInput } from '../../shared/election/decide.js'
import {
  DEFAULT_ATTACHMENT_TARGET,
  LOAD_REPORT_INTERVAL_MS,
} from '../../shared/election/load-report.js'
import type { LoadReport } from '../../shared/election/load-report.js'
import { requestLoad } from './load-protocol.js'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'
import { hasPublicAddress } from '../node/role-policy.js'
import type { SupernodeTracker } from '../node/supernode-tracker.js'
import type { RoleController } from '../node/role-controller.js'
import { reservedRelays } from '../node/relay-keeper.js'

export interface ElectionTuning {
  /** Between decisions. @default DECIDE_INTERVAL_MS */
  intervalMs: number
  /** How long a stepping-down supernode keeps serving while clients move. @default 2 × LOAD_REPORT_INTERVAL_MS */
  handoffMs: number
  thresholds: CapabilityThresholds
  /** Count loopback/LAN addresses as public (a one-host test network). @default false */
  assumePublic: boolean
  /** Dwell times and floor passed to the policy (tests shorten them). */
  policy?: ElectionInput['tuning']
}

export interface ElectionServiceInit {
  roles: RoleController
  supernodes: Pick<SupernodeTracker, 'connected'>
  /** The current libp2p instance (it changes with the role). */
  node: () => KaiwaLibp2p
  startedAt: number
  turnOn: () => boolean
  caps: () => Promise<SupernodeCaps>
  log: Logger
  tuning?: Partial<ElectionTuning>
}

export class ElectionService {
  private readonly tuning: ElectionTuning
  private timer: ReturnType<typeof setTimeout> | undefined
  private steppingDown = false
  /** Peers that asked lately, and whether each is a candidate (the report's counts). */
  private readonly askers = new Map<string, { candidate: boolean; at: number }>()
  /** Supernodes whose reports say they are leaving. */
  readonly leaving = new Set<string>()
  /** The latest load (clients / target) each sampled supernode reported. */
  private readonly loads = new Map<string, number>()
  private last: ElectionDecision | undefined
  private busy = false

  constructor(private readonly init: ElectionServiceInit) {
    this.tuning = {
      intervalMs: DECIDE_INTERVAL_MS,
      handoffMs: 2 * LOAD_REPORT_INTERVAL_MS,
      thresholds: DEFAULT_CAPABILITY_THRESHOLDS,
      assumePublic: false,
      ...init.tuning,
    }
  }

  /** A supernode's last reported load (clients / target), for choosing where to attach. */
  loadOf(peer: string): number | undefined {
    return this.loads.get(peer)
  }

  /** The last decision, for status and logs. */
  lastDecision(): ElectionDecision | undefined {
    return this.last
  }

  /** A peer asked for this supernode's load (the `load` service's `onAsked`). */
  noteAsker(peer: string, candidate: boolean): void {
    this.askers.set(peer, { candidate, at: Date.now() })
  }

  /** The role changed: who asked a previous instance, and a finished step-down, are history. */
  roleChanged(): void {
    this.steppingDown = false
    this.askers.clear()
  }

  start(): void {
    this.arm()
  }

  stop(): void {
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Decide soon (e.g. AutoNAT just confirmed a public address). */
  soon(): void {
    if (this.timer == null) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => void this.tick(), 1000)
    this.timer.unref?.()
  }

  private arm(): void {
    // ±25 % jitter: nodes that started together must not decide together.
    const delay = this.tuning.intervalMs * (0.75 + Math.random() * 0.5)
    this.timer = setTimeout(() => void this.tick(), delay)
    this.timer.unref?.()
  }

  /**
   * Attached clients are the peers holding a relay reservation here (short
   * DHT-query connections are not attachments); candidates are the attached
   * clients that said, when they last asked, that they could serve.
   */
  ownReport(now = Date.now()): LoadReport {
    const attached = relayReservationHolders(this.init.node())
    let candidates = 0
    for (const [id, a] of this.askers) {
      if (now - a.at > 3 * LOAD_REPORT_INTERVAL_MS) this.askers.delete(id)
      else if (a.candidate && attached.has(id)) candidates++
    }
    return {
      clients: attached.size,
      candidates,
      target: DEFAULT_ATTACHMENT_TARGET,
      steppingDown: this.steppingDown,
      at: now,
    }
  }

  /** One round; exported for tests through `tickNow`. */
  async tickNow(random = Math.random()): Promise<ElectionDecision | undefined> {
    if (this.busy) return undefined
    this.busy = true
    try {
      return await this.round(random)
    } finally {
      this.busy = false
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.tickNow()
    } catch (err) {
      this.init.log.warn(`election round failed: ${String(err)}`)
    } finally {
      if (this.timer != null) this.arm()
    }
  }

  private async round(random: number): Promise<ElectionDecision | undefined> {
    const { roles } = this.init
    const mode = roles.mode()
    // Clients sample loads in every mode (they choose where to attach by it);
    // only `auto` nodes act on them.
    if (this.steppingDown || (mode !== 'auto' && roles.role() === 'supernode')) return undefined
    const node = this.init.node()
    const now = Date.now()
    const role: Role = roles.role()
    const caps = await this.init.caps()
    const publicReachable = this.tuning.assumePublic || hasPublicAddress(node.getMultiaddrs())
    const capability = checkCapability(
      {
        mode,
        publicReachable,
        turnReachable: publicReachable && this.init.turnOn(),
        uplinkKbps: caps.relayKbps,
        uptimeMs: now - this.init.startedAt,
      },
      this.tuning.thresholds,
    )
    // The sample: random DHT servers from the routing table (the network at
    // large), not just the two this node is attached to, which are likelier
    // than average to be crowded. The known count is network-wide too.
    const known = dhtServers(node)
    const connected = this.init.supernodes.connected()
    const pool = [...new Set([...known, ...connected])]
    const sample = pool.sort(() => Math.random() - 0.5).slice(0, LOAD_SAMPLE_SIZE)
    // Only the supernodes it is attached to count a candidate (as the policy assumes).
    const attachedTo = new Set(reservedRelays(node))
    const candidate = role === 'client' && capability.capable
    const reports: LoadReport[] = []
    await Promise.all(
      sample.map(async (id) => {
        try {
          const asCandidate = candidate && attachedTo.has(id)
          const r = await requestLoad(node, peerIdFromString(id), asCandidate, now)
          if (r.steppingDown) this.leaving.add(id)
          else this.leaving.delete(id)
          this.loads.set(id, r.clients / r.target)
          reports.push(r)
        } catch (err) {
          this.init.log.debug(`no load report from ${id}: ${String(err)}`)
        }
      }),
    )
    if (mode !== 'auto') return undefined
    const decision = decide({
      mode,
      role,
      capable: capability.capable,
      timeInRoleMs: now - roles.roleSince(),
      now,
      reports,
      ...(role === 'supernode' ? { own: this.ownReport(now) } : {}),
      supernodesKnown: pool.length + (role === 'supernode' ? 1 : 0),
      peersKnown: node.getPeers().length,
      random,
      ...(this.tuning.policy != null ? { tuning: this.tuning.policy } : {}),
    })
    this.last = decision
    if (decision.action === 'promote') {
      await roles.change('supernode', `election: ${decision.reason}`)
    } else if (decision.action === 'demote') {
      this.init.log.info(
        `election: stepping down (${decision.reason}); handing clients off for ${Math.round(this.tuning.handoffMs / 1000)} s`,
      )
      this.steppingDown = true
      await new Promise((r) => setTimeout(r, this.tuning.handoffMs))
      await roles.change('client', `election: ${decision.reason}`)
    } else if (!capability.capable && role === 'client') {
      this.init.log.debug(`election: stay a client (${capability.missing.join(', ')})`)
    }
    return decision
  }
}

/** Peer ids of the DHT servers in this node's routing table. */
function dhtServers(node: KaiwaLibp2p): string[] {
  const table = (
    node.services.dht as unknown as {
      routingTable: { kb?: { toIterable(): Iterable<{ peerId: { toString(): string } }> } }
    }
  ).routingTable
  const out: string[] = []
  for (const c of table.kb?.toIterable() ?? []) out.push(c.peerId.toString())
  return out
}

/** Peers holding a relay reservation on this supernode (its attached clients). */
function relayReservationHolders(node: KaiwaLibp2p): Set<string> {
  const relay = (
    node.services as {
      relay?: { reservations: { keys(): Iterable<{ toString(): string }> } }
    }
  ).relay
  const out = new Set<string>()
  for (const peer of relay?.reservations.keys() ?? []) out.add(peer.toString())
  return out
}
