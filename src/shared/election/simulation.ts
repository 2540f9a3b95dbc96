/**
 * A round-based simulation of the election, for the claim: at 1k–100k
 * nodes, with churn and a realistic capability mix, the supernode fraction
 * settles at 1% ± 0.3% and no client is left without a supernode. It runs the
 * real policy (`isCapable`, `decide`, `chooseSupernodes`) for every node that
 * could act; the state lives in typed arrays (simulation-network.ts) and nodes
 * read samples of reports, never all of them, so 100k nodes take seconds.
 * Pure and seeded: the same options give the same run.
 *
 * One round is one DECIDE_INTERVAL_MS. Each round:
 * 1. supernodes that started stepping down last round become clients (their
 *    clients moved away during that round: the handoff);
 * 2. churn: nodes whose session ended leave (supernodes abruptly, with no
 *    handoff) and new nodes join, as many as the population curve asks for;
 * 3. supernodes publish load reports (attachments, candidate attachments);
 * 4. every capable `auto` client and every `auto` supernode runs `decide` on
 *    LOAD_SAMPLE_SIZE random reports; all decide on the same snapshot;
 * 5. clients that lost a supernode, hold one that is stepping down or crowded,
 *    or hold fewer than CLIENT_ATTACHMENTS run `chooseSupernodes` on their
 *    current supernodes plus LOAD_SAMPLE_SIZE random ones. A supernode answers
 *    an attach with its current count, so a client sees the moves made before
 *    its own.
 *
 * Cold start: every node is online (mid-session, as at any moment of a running
 * network) but only the `on` nodes serve; the `auto` election starts from there.
 */
import { isCapable } from './capability.js'
import { chooseSupernodes, SHED_ABOVE_LOAD, type SupernodeView } from './attachment.js'
import { decide, DECIDE_INTERVAL_MS, LOAD_SAMPLE_SIZE } from './decide.js'
import { CLIENT_ATTACHMENTS, DEFAULT_ATTACHMENT_TARGET, type LoadReport } from './load-report.js'
import { createPrng, type Prng } from './prng.js'
import {
  DEFAULT_POPULATION_MIX,
  drawNodeProfile,
  MODE_AUTO,
  onNodeCount,
  onNodeProfile,
  populationCurve,
  type ModeCode,
  type PopulationMix,
  type PopulationScenario,
} from './simulation-population.js'
import { CLIENT, MODES, NEVER, SimNetwork, SUPER } from './simulation-network.js'
import { summarize, type RoundStats, type SimulationSummary } from './simulation-stats.js'
import { InvalidInputError } from '../errors.js'

/** A role change that reverses the node's previous one within this many rounds is a flap. */
export const FLAP_WINDOW_ROUNDS = 60

/**
 * Rounds left out of the steady-state figures by default.
 *
 * @default 90
 */
export const DEFAULT_WARMUP_ROUNDS = 90

export interface SimulationOptions {
  /** Nodes online at the start, and the most ever online. */
  nodes: number
  rounds: number
  seed: number
  /** @default 'steady' */
  scenario?: PopulationScenario
  /** @default DEFAULT_WARMUP_ROUNDS */
  warmupRounds?: number
  /** Overrides of DEFAULT_POPULATION_MIX. */
  mix?: Partial<PopulationMix>
  /** Called after every round, for progress or a time series. */
  onRound?: (stats: RoundStats) => void
}

export interface SimulationResult {
  stats: RoundStats[]
  summary: SimulationSummary
}

const K = CLIENT_ATTACHMENTS
const TARGET = DEFAULT_ATTACHMENT_TARGET
const ROUND_MS = DECIDE_INTERVAL_MS
const ROUND_MIN = ROUND_MS / 60_000

export function runSimulation(options: SimulationOptions): SimulationResult {
  const sim = new ElectionSimulation(options)
  const stats: RoundStats[] = []
  for (let r = 0; r < options.rounds; r++) {
    const s = sim.step()
    stats.push(s)
    options.onRound?.(s)
  }
  const warmup = options.warmupRounds ?? DEFAULT_WARMUP_ROUNDS
  return { stats, summary: summarize(stats, options.nodes, warmup) }
}

/** The simulated network; `step()` runs one round. */
export class ElectionSimulation {
  readonly net: SimNetwork
  private readonly rng: Prng
  private readonly mix: PopulationMix
  private readonly population: (round: number) => number
  private round = 0
  /** Per supernode: candidate attachments, and its latest report. */
  private readonly cands: Int32Array
  private readonly reports: (LoadReport | undefined)[]
  private readonly lastFlip: Int32Array
  private readonly lastFlipKind: Uint8Array

  constructor(options: SimulationOptions) {
    const { nodes, rounds, seed } = options
    if (!Number.isInteger(nodes) || nodes < 2) {
      throw new InvalidInputError(`nodes must be an integer ≥ 2 (got ${nodes})`)
    }
    if (!Number.isInteger(rounds) || rounds < 1) {
      throw new InvalidInputError(`rounds must be a positive integer (got ${rounds})`)
    }
    if (!Number.isFinite(seed)) throw new InvalidInputError(`seed must be a number (got ${seed})`)
    this.rng = createPrng(seed)
    this.mix = { ...DEFAULT_POPULATION_MIX, ...options.mix }
    this.population = populationCurve(options.scenario ?? 'steady', nodes, rounds)
    this.net = new SimNetwork(nodes)
    this.cands = new Int32Array(nodes)
    this.reports = new Array<LoadReport | undefined>(nodes)
    this.lastFlip = new Int32Array(nodes).fill(-NEVER)
    this.lastFlipKind = new Uint8Array(nodes)

    const on = onNodeCount(nodes, this.mix)
    const start = Math.min(nodes, this.population(0))
    for (let n = 0; n < start; n++) {
      const i = this.net.takeFreeSlot()
      if (n < on) {
        this.net.place(i, onNodeProfile(), 0)
        this.net.makeSupernode(i, -NEVER)
      } else {
        this.net.place(i, drawNodeProfile(this.rng, this.mix, ROUND_MIN, true), 0)
      }
    }
  }

  step(): RoundStats {
    const r = this.round++
    const s: RoundStats = {
      round: r,
      nodes: 0,
      supernodes: 0,
      fraction: 0,
      meanLoad: 0,
      candidates: 0,
      promotions: 0,
      demotions: 0,
      flaps: 0,
      leaves: 0,
      supernodesLost: 0,
      orphans: 0,
    }
    this.finishHandoffs(r)
    this.churn(r, s)
    this.publishReports(r, s)
    this.decideAll(r, s)
    this.attachAll(s)
    s.nodes = this.net.online
    s.supernodes = this.net.snCount
    s.fraction = s.supernodes / s.nodes
    return s
  }

  // 1. The handoff took one round; whoever has not moved re-attaches in step 5.
  private finishHandoffs(r: number): void {
    const net = this.net
    for (let j = net.snCount - 1; j >= 0; j--) {
      const i = net.snList[j]!
      if (net.stepping[i]) net.makeClient(i, r)
    }
  }

  // 2. Sessions end; joins keep the population on its curve.
  private churn(r: number, s: RoundStats): void {
    const net = this.net
    const target = Math.min(net.slots, Math.round(this.population(r)))
    for (let i = 0; i < net.slots; i++) {
      if (net.leaves[i]! > r) continue
      s.leaves++
      if (net.role[i] === SUPER) s.supernodesLost++
      net.leave(i)
      if (net.online < target) this.join(i, r)
      else net.release(i)
    }
    while (net.online < target) {
      const i = net.takeFreeSlot()
      if (i < 0) break
      this.join(i, r)
    }
    // Falling faster than sessions end (an evening): clients leave, not the
    // always-on machines that serve, so the load per supernode drops.
    let tries = 0
    while (net.online > target && net.online > net.snCount && tries++ < 100 * net.slots) {
      const i = this.rng.int(net.slots)
      if (net.role[i] !== CLIENT) continue
      s.leaves++
      net.leave(i)
      net.release(i)
    }
  }

  private join(i: number, r: number): void {
    this.net.place(i, drawNodeProfile(this.rng, this.mix, ROUND_MIN, false), r)
    this.lastFlip[i] = -NEVER
    this.lastFlipKind[i] = 0
  }

  // 3. Count attachments and candidate attachments from the clients' side.
  private publishReports(r: number, s: RoundStats): void {
    const net = this.net
    for (let j = 0; j < net.snCount; j++) {
      const i = net.snList[j]!
      net.clients[i] = 0
      this.cands[i] = 0
    }
    let attachments = 0
    for (let i = 0; i < net.slots; i++) {
      if (net.role[i] !== CLIENT) continue
      const cand = net.mayBeCapable[i] === 1 && this.capable(i, r)
      net.capableNow[i] = cand ? 1 : 0
      if (cand) s.candidates++
      for (let k = i * K; k < i * K + K; k++) {
        const sn = net.att[k]!
        if (sn < 0 || !net.live(sn, net.attEpoch[k]!)) continue
        net.addClients(sn, 1)
        attachments++
        if (cand) this.cands[sn] = this.cands[sn]! + 1
      }
    }
    for (let j = 0; j < net.snCount; j++) {
      const i = net.snList[j]!
      this.reports[i] = this.report(net.clients[i]!, this.cands[i]!, r)
    }
    s.meanLoad = net.snCount > 0 ? attachments / (net.snCount * TARGET) : 0
  }

  // 4. Everyone who could act decides on the same snapshot; then apply.
  private decideAll(r: number, s: RoundStats): void {
    const net = this.net
    const promote: number[] = []
    const demote: number[] = []
    const base = { now: r * ROUND_MS, supernodesKnown: net.snCount, peersKnown: net.online - 1 }
    // Clients that are off, NATed, slow or new get 'stay' without reading a
    // report, so only candidates are asked.
    for (let i = 0; i < net.slots; i++) {
      if (net.role[i] !== CLIENT || net.capableNow[i] !== 1) continue
      const d = decide({
        ...base,
        mode: MODES[net.mode[i] as ModeCode],
        role: 'client',
        capable: true,
        timeInRoleMs: (r - net.roleSince[i]!) * ROUND_MS,
        reports: this.sampleReports(i),
        random: this.rng.next(),
      })
      if (d.action === 'promote') promote.push(i)
    }
    for (let j = 0; j < net.snCount; j++) {
      const i = net.snList[j]!
      if (net.mode[i] !== MODE_AUTO) continue
      const d = decide({
        ...base,
        mode: 'auto',
        role: 'supernode',
        capable: this.capable(i, r),
        timeInRoleMs: (r - net.roleSince[i]!) * ROUND_MS,
        reports: this.sampleReports(i),
        own: this.reports[i]!,
        random: this.rng.next(),
      })
      if (d.action === 'demote') demote.push(i)
    }
    for (const i of demote) {
      net.stepping[i] = 1
      s.demotions++
      if (this.flip(i, r, 2)) s.flaps++
    }
    for (const i of promote) {
      net.makeSupernode(i, r)
      this.reports[i] = this.report(0, 0, r)
      s.promotions++
      if (this.flip(i, r, 1)) s.flaps++
    }
  }

  // 5. Clients replace what left, leave what steps down or is crowded, fill up.
  private attachAll(s: RoundStats): void {
    const net = this.net
    const active: number[] = []
    let lightExists = false
    for (let j = 0; j < net.snCount; j++) {
      const i = net.snList[j]!
      if (net.stepping[i]) continue
      active.push(i)
      if (net.clients[i]! < TARGET) lightExists = true
    }
    const want = Math.min(K, active.length)
    const current: number[] = []
    for (let i = 0; i < net.slots; i++) {
      if (net.role[i] !== CLIENT) continue
      let serving = 0
      let needs = false
      current.length = 0
      for (let k = i * K; k < i * K + K; k++) {
        const sn = net.att[k]!
        if (sn < 0) continue
        if (!net.live(sn, net.attEpoch[k]!)) {
          net.att[k] = -1
          needs = true
          continue
        }
        current.push(sn)
        if (net.stepping[sn]) needs = true
        else {
          serving++
          if (lightExists && net.clients[sn]! > SHED_ABOVE_LOAD * TARGET) needs = true
        }
      }
      if (serving < want) needs = true
      if (needs) this.reattach(i, current, active)
      let held = 0
      for (let k = i * K; k < i * K + K; k++) if (net.att[k]! >= 0) held++
      if (held === 0) s.orphans++
    }
  }

  private reattach(i: number, current: readonly number[], active: readonly number[]): void {
    const net = this.net
    const known: SupernodeView<number>[] = current.map((sn) => this.view(sn))
    for (const sn of net.pick(this.rng, active, active.length, LOAD_SAMPLE_SIZE, -1)) {
      if (!current.includes(sn)) known.push(this.view(sn))
    }
    const plan = chooseSupernodes({ current, known, random: this.rng.next() })
    net.applyPlan(i, plan.keep, plan.attach, plan.detach)
  }

  private view(sn: number): SupernodeView<number> {
    const net = this.net
    return { id: sn, clients: net.clients[sn]!, target: TARGET, steppingDown: !!net.stepping[sn] }
  }

  /** Reports of LOAD_SAMPLE_SIZE distinct random supernodes other than `self`. */
  private sampleReports(self: number): LoadReport[] {
    const net = this.net
    const picked = net.pick(this.rng, net.snList, net.snCount, LOAD_SAMPLE_SIZE, self)
    return picked.map((sn) => this.reports[sn]!)
  }

  private report(clients: number, candidates: number, r: number): LoadReport {
    return { clients, candidates, target: TARGET, steppingDown: false, at: r * ROUND_MS }
  }

  private capable(i: number, r: number): boolean {
    const net = this.net
    return isCapable({
      mode: MODES[net.mode[i] as ModeCode],
      publicReachable: net.pub[i] === 1,
      turnReachable: net.turn[i] === 1,
      uplinkKbps: net.uplink[i]!,
      uptimeMs: net.uptime(i, r) * ROUND_MS,
    })
  }

  /** Records a role change; true when it reverses the previous one within the window. */
  private flip(i: number, r: number, kind: number): boolean {
    const flap = this.lastFlipKind[i] !== 0 && this.lastFlipKind[i] !== kind
    const recent = r - this.lastFlip[i]! <= FLAP_WINDOW_ROUNDS
    this.lastFlip[i] = r
    this.lastFlipKind[i] = kind
    return flap && recent
  }
}
