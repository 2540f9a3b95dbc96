import { describe, it, expect } from 'vitest'
import {
  decide,
  demoteProbability,
  ELECTION_GAIN,
  MIN_CLIENT_DWELL_MS,
  MIN_SUPERNODE_DWELL_MS,
  MIN_SUPERNODES,
  promoteProbability,
  summarizeReports,
  type ElectionInput,
} from '../../../src/shared/election/decide.js'
import {
  LOAD_REPORT_MAX_AGE_MS,
  type LoadReport,
} from '../../../src/shared/election/load-report.js'

const NOW = 1_700_000_000_000
const HOUR = 3_600_000

const rep = (clients: number, candidates = 0, more: Partial<LoadReport> = {}): LoadReport => ({
  clients,
  candidates,
  target: 200,
  steppingDown: false,
  at: NOW,
  ...more,
})
const sample = (n: number, clients: number, candidates: number): LoadReport[] =>
  Array.from({ length: n }, () => rep(clients, candidates))

const client = (over: Partial<ElectionInput> = {}): ElectionInput => ({
  mode: 'auto',
  role: 'client',
  capable: true,
  timeInRoleMs: HOUR,
  now: NOW,
  reports: sample(8, 300, 10), // load 1.5
  supernodesKnown: 100,
  peersKnown: 10_000,
  random: 0,
  ...over,
})

const supernode = (over: Partial<ElectionInput> = {}): ElectionInput => ({
  mode: 'auto',
  role: 'supernode',
  capable: true,
  timeInRoleMs: 2 * HOUR,
  now: NOW,
  reports: sample(8, 100, 5), // load 0.5
  own: rep(80, 4),
  supernodesKnown: 100,
  peersKnown: 10_000,
  random: 0,
  ...over,
})

describe('decide: promotion', () => {
  it('a capable client promotes when supernodes are overloaded, with a spread probability', () => {
    // L = 1.5, 10 candidate attachments per supernode, each candidate attached twice:
    // p = gain · (L − 1) · 2 / 10.
    const p = (ELECTION_GAIN * 0.5 * 2) / 10
    expect(decide(client({ random: p - 1e-9 })).action).toBe('promote')
    expect(decide(client({ random: p + 1e-9 })).action).toBe('stay')
  })

  it('expected promotions close ELECTION_GAIN of the gap, whatever the network size', () => {
    for (const S of [10, 100, 1000]) {
      // S supernodes at 300 attachments with 10 candidate attachments each: S·10/2 candidates.
      const p = promoteProbability(summarizeReports(sample(8, 300, 10), NOW), S)
      const expected = p * ((S * 10) / 2)
      expect(expected).toBeCloseTo(ELECTION_GAIN * S * (1.5 - 1), 9)
    }
  })

  it('does not promote at or below the high watermark', () => {
    expect(decide(client({ reports: sample(8, 200, 10) })).action).toBe('stay')
    expect(decide(client({ reports: sample(8, 210, 10) })).action).toBe('stay') // 1.05
  })

  it('does not promote when not capable, even when overloaded', () => {
    const d = decide(client({ capable: false, reports: sample(8, 2000, 10) }))
    expect(d).toEqual({ action: 'stay', reason: 'not capable' })
  })

  it('hysteresis: a client that just stepped down (or joined) waits MIN_CLIENT_DWELL_MS', () => {
    expect(decide(client({ timeInRoleMs: MIN_CLIENT_DWELL_MS - 1 })).action).toBe('stay')
    expect(decide(client({ timeInRoleMs: MIN_CLIENT_DWELL_MS })).action).toBe('promote')
  })

  it('ignores stale reports', () => {
    const stale = sample(8, 2000, 10).map((r) => ({ ...r, at: NOW - LOAD_REPORT_MAX_AGE_MS - 1 }))
    expect(decide(client({ reports: stale })).action).toBe('stay')
  })

  it('counts stepping-down supernodes as leaving: their clients stay, their capacity goes', () => {
    const reports = [
      ...sample(4, 200, 10),
      ...sample(4, 200, 10).map((r) => ({ ...r, steppingDown: true })),
    ]
    const s = summarizeReports(reports, NOW)
    expect(s.load).toBe(2)
    // 80 candidate attachments over 4 serving supernodes: p = gain · 1 · 2 / 20.
    expect(decide(client({ reports, random: 0.049 })).action).toBe('promote')
    expect(decide(client({ reports, random: 0.051 })).action).toBe('stay')
  })

  it('a lone auto node with no peers waits for a network: founding one is explicit', () => {
    for (const capable of [true, false]) {
      const d = decide(client({ capable, reports: [], supernodesKnown: 0, peersKnown: 0 }))
      expect(d.action).toBe('stay')
    }
    const notLone = decide(
      client({ capable: false, reports: [], supernodesKnown: 0, peersKnown: 3 }),
    )
    expect(notLone.action).toBe('stay')
  })

  it('below the floor, candidates promote (spread by the candidates the supernodes count)', () => {
    // One supernode (the first node), two candidates attached to it: each promotes with p = 2/2.
    const reports = [rep(5, 2)]
    expect(decide(client({ reports, supernodesKnown: 1, random: 0.99 })).action).toBe('promote')
    // Ten candidates: p = 2/10.
    const many = [rep(40, 10)]
    expect(decide(client({ reports: many, supernodesKnown: 1, random: 0.19 })).action).toBe(
      'promote',
    )
    expect(decide(client({ reports: many, supernodesKnown: 1, random: 0.21 })).action).toBe('stay')
  })

  it('before any attachment is counted, assumes every known peer may be a candidate', () => {
    // A cold start: the one supernode has no client yet; 1000 peers: p = 2/1000.
    const cold = client({ reports: [rep(0, 0)], supernodesKnown: 1, peersKnown: 1000 })
    expect(decide({ ...cold, random: 0.0019 }).action).toBe('promote')
    expect(decide({ ...cold, random: 0.0021 }).action).toBe('stay')
    // No supernode at all, four peers: p = 3/4.
    const none = client({ reports: [], supernodesKnown: 0, peersKnown: 4 })
    expect(decide({ ...none, random: 0.74 }).action).toBe('promote')
    expect(decide({ ...none, random: 0.76 }).action).toBe('stay')
  })
})

describe('decide: step-down', () => {
  it('an underloaded supernode steps down with a probability sized to the surplus', () => {
    const s = summarizeReports([rep(80, 4), ...sample(8, 100, 5)], NOW)
    const p = demoteProbability(s.load, 100)
    expect(p).toBeCloseTo(ELECTION_GAIN * (1 - s.load), 9)
    expect(decide(supernode({ random: p - 1e-9 })).action).toBe('demote')
    expect(decide(supernode({ random: p + 1e-9 })).action).toBe('stay')
  })

  it('does not step down at or above the low watermark', () => {
    expect(decide(supernode({ reports: sample(8, 180, 5), own: rep(100) })).action).toBe('stay')
  })

  it('a supernode carrying more than the low watermark itself stays, even if the mean is low', () => {
    expect(decide(supernode({ own: rep(190, 4) })).action).toBe('stay')
  })

  it('only above the floor: never below MIN_SUPERNODES', () => {
    expect(MIN_SUPERNODES).toBe(3)
    const at = decide(supernode({ supernodesKnown: MIN_SUPERNODES, reports: sample(2, 10, 1) }))
    expect(at.action).toBe('stay')
    // One above the floor: the expected step-downs among the four stay within one.
    const above = supernode({ supernodesKnown: 4, reports: sample(3, 10, 1), own: rep(10) })
    expect(demoteProbability(0.05, 4)).toBeCloseTo(ELECTION_GAIN / 4, 9)
    expect(decide({ ...above, random: ELECTION_GAIN / 4 - 1e-9 }).action).toBe('demote')
    expect(decide({ ...above, random: ELECTION_GAIN / 4 + 1e-9 }).action).toBe('stay')
  })

  it('supernodes already stepping down do not count toward the floor', () => {
    const reports = [rep(10), rep(10), rep(10, 0, { steppingDown: true })]
    expect(decide(supernode({ supernodesKnown: 4, reports, own: rep(10) })).action).toBe('stay')
  })

  it('never steps down as the last supernode, even when no longer capable', () => {
    const last = decide(supernode({ capable: false, supernodesKnown: 1, reports: [] }))
    expect(last).toEqual({ action: 'stay', reason: 'the last supernode never steps down' })
    const otherLeaving = [rep(10, 0, { steppingDown: true })]
    expect(
      decide(supernode({ capable: false, supernodesKnown: 2, reports: otherLeaving })).action,
    ).toBe('stay')
  })

  it('steps down when no longer capable and another supernode remains', () => {
    const d = decide(
      supernode({ capable: false, supernodesKnown: 2, reports: [rep(300)], random: 0.99 }),
    )
    expect(d.action).toBe('demote')
  })

  it('hysteresis: serves at least MIN_SUPERNODE_DWELL_MS before stepping down', () => {
    expect(decide(supernode({ timeInRoleMs: MIN_SUPERNODE_DWELL_MS - 1 })).action).toBe('stay')
    expect(
      decide(supernode({ timeInRoleMs: MIN_SUPERNODE_DWELL_MS - 1, capable: false })).action,
    ).toBe('stay')
    expect(decide(supernode({ timeInRoleMs: MIN_SUPERNODE_DWELL_MS })).action).toBe('demote')
  })
})

describe('decide: tuning', () => {
  it('tests of real nodes can shorten the dwell times and change the floor', () => {
    const tuning = { minClientDwellMs: 1_000, minSupernodeDwellMs: 2_000, minSupernodes: 1 }
    expect(decide(client({ timeInRoleMs: 1_000, tuning })).action).toBe('promote')
    const sn = supernode({ timeInRoleMs: 2_000, supernodesKnown: 2, reports: [rep(10)], tuning })
    expect(decide(sn).action).toBe('demote')
    expect(decide({ ...sn, tuning: undefined }).action).toBe('stay')
  })
})

describe('decide: on and off override the election', () => {
  it('on always serves', () => {
    expect(decide(client({ mode: 'on', capable: false, reports: [] })).action).toBe('promote')
    const d = decide(
      supernode({ mode: 'on', own: rep(0), reports: sample(8, 0, 0), timeInRoleMs: 0 }),
    )
    expect(d.action).toBe('stay')
  })

  it('off never serves, not even as the last supernode', () => {
    expect(decide(client({ mode: 'off', reports: sample(8, 5000, 10) })).action).toBe('stay')
    const d = decide(supernode({ mode: 'off', supernodesKnown: 1, reports: [], timeInRoleMs: 0 }))
    expect(d.action).toBe('demote')
  })
})
