import { describe, expect, it } from 'vitest'
import {
  ALLOWED_SKEW_MS,
  MAX_PEER_SKEW_MS,
  WARN_OWN_SKEW_MS,
} from '../../../src/shared/clock/clock-limits.js'
import { clockStatus, formatDuration } from '../../../src/shared/clock/clock-status.js'

const MIN = 60_000

describe('clock limits', () => {
  it('warn < allowed < refuse', () => {
    expect(WARN_OWN_SKEW_MS).toBe(2 * MIN)
    expect(ALLOWED_SKEW_MS).toBe(5 * MIN)
    expect(MAX_PEER_SKEW_MS).toBe(6 * 60 * MIN)
    expect(WARN_OWN_SKEW_MS).toBeLessThan(ALLOWED_SKEW_MS)
    expect(ALLOWED_SKEW_MS).toBeLessThan(MAX_PEER_SKEW_MS)
  })
})

describe('clockStatus', () => {
  it('is unknown with no samples', () => {
    expect(clockStatus([])).toMatchObject({ state: 'unknown', offsetMs: null, samples: 0 })
  })

  it('is ok within the warn threshold', () => {
    const s = clockStatus([1500, -500, 400])
    expect(s).toMatchObject({ state: 'ok', offsetMs: -400, samples: 3 })
    expect(s.message).toBe('Your clock agrees with the network (within 0 s, 3 supernodes).')
  })

  it('says fast when the peers are behind, and how to fix it', () => {
    const s = clockStatus([-7 * MIN, -7 * MIN - 200, -6.9 * MIN])
    expect(s.state).toBe('warn')
    expect(s.offsetMs).toBe(7 * MIN)
    expect(s.message).toBe(
      'Your clock is 7 min fast compared with the network (3 supernodes); ' +
        'your contact record and calls will fail their time checks. ' +
        'To fix it, turn on automatic time (NTP) in your system settings.',
    )
  })

  it('says slow when the peers are ahead; below the allowed skew it warns ahead of failures', () => {
    const s = clockStatus([3 * MIN])
    expect(s).toMatchObject({ state: 'warn', offsetMs: -3 * MIN, samples: 1 })
    expect(s.message).toContain('Your clock is 3 min slow compared with the network (1 supernode)')
    expect(s.message).toContain('will start to fail past 5 min')
  })

  it('says other nodes refuse calls past MAX_PEER_SKEW_MS', () => {
    expect(clockStatus([-7 * 60 * MIN]).message).toContain(
      'Your clock is 7 h fast compared with the network (1 supernode); other nodes refuse calls',
    )
  })

  it('uses the median, so one wrong supernode does not raise a warning', () => {
    expect(clockStatus([0, 100, 9 * 60 * MIN]).state).toBe('ok')
  })

  it('honours a custom warn threshold', () => {
    expect(clockStatus([30_000], { warnMs: 10_000 }).state).toBe('warn')
  })
})

describe('formatDuration', () => {
  it('reads naturally', () => {
    expect(formatDuration(400)).toBe('0 s')
    expect(formatDuration(45_000)).toBe('45 s')
    expect(formatDuration(-7 * MIN)).toBe('7 min')
    expect(formatDuration(125 * MIN)).toBe('2 h 5 min')
    expect(formatDuration(7 * 60 * MIN)).toBe('7 h')
    expect(formatDuration(3 * 24 * 60 * MIN)).toBe('3 days')
  })
})
