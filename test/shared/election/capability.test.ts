import { describe, it, expect } from 'vitest'
import {
  checkCapability,
  isCapable,
  MIN_UPLINK_KBPS,
  MIN_UPTIME_MS,
  type CapabilityInput,
} from '../../../src/shared/election/capability.js'

const good: CapabilityInput = {
  mode: 'auto',
  publicReachable: true,
  turnReachable: true,
  uplinkKbps: MIN_UPLINK_KBPS,
  uptimeMs: MIN_UPTIME_MS,
}

describe('supernode capability', () => {
  it('auto: capable when every requirement is met, thresholds inclusive', () => {
    expect(checkCapability(good)).toEqual({ capable: true, missing: [] })
  })

  it('auto: names every unmet requirement', () => {
    const r = checkCapability({
      mode: 'auto',
      publicReachable: false,
      turnReachable: false,
      uplinkKbps: MIN_UPLINK_KBPS - 1,
      uptimeMs: MIN_UPTIME_MS - 1,
    })
    expect(r.capable).toBe(false)
    expect(r.missing).toEqual(['not-reachable', 'turn-not-reachable', 'low-uplink', 'low-uptime'])
  })

  it('auto: each requirement alone is enough to refuse', () => {
    expect(isCapable({ ...good, publicReachable: false })).toBe(false)
    expect(isCapable({ ...good, turnReachable: false })).toBe(false)
    expect(isCapable({ ...good, uplinkKbps: 1_000 })).toBe(false)
    expect(isCapable({ ...good, uptimeMs: 60_000 })).toBe(false)
  })

  it('an unmeasured uplink (NaN) is not enough', () => {
    expect(checkCapability({ ...good, uplinkKbps: Number.NaN }).missing).toEqual(['low-uplink'])
  })

  it('on skips the checks; off is never capable', () => {
    const bad = { ...good, publicReachable: false, uplinkKbps: 0, uptimeMs: 0 }
    expect(isCapable({ ...bad, mode: 'on' })).toBe(true)
    expect(checkCapability({ ...good, mode: 'off' })).toEqual({
      capable: false,
      missing: ['opted-out'],
    })
  })

  it('takes other thresholds', () => {
    expect(isCapable({ ...good, uplinkKbps: 500, uptimeMs: 0 })).toBe(false)
    expect(
      isCapable({ ...good, uplinkKbps: 500, uptimeMs: 0 }, { minUplinkKbps: 500, minUptimeMs: 0 }),
    ).toBe(true)
  })
})
