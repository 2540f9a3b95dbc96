/**
 * When a call restarts ICE after its media path died (issue 13 §8, roaming):
 * the grace on `disconnected`, one restart in flight, RFC 3261 §14.1's 491
 * timers, bounded attempts, and the peer's own restart. The clock is vitest's;
 * the re-INVITE is a function the test answers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  CONNECT_TIMEOUT_MS,
  DISCONNECTED_GRACE_MS,
  IceRestartPolicy,
  MAX_RESTART_ATTEMPTS,
  glareRetryMs,
} from '../../../src/renderer/sip/ice-restart-policy.js'
import type { RecoveryState, RestartResult } from '../../../src/renderer/sip/ice-restart-policy.js'
import { iceUfrag, isIceRestartOffer } from '../../../src/renderer/sip/call-recovery.js'

/** A policy whose re-INVITEs wait for the test to answer them. */
function harness(ownsCallId = true, random = () => 0.5) {
  let ice = 'connected'
  const states: RecoveryState[] = []
  const pending: Array<(r: RestartResult) => void> = []
  let sent = 0
  const policy = new IceRestartPolicy({
    ownsCallId,
    random,
    connected: () => ice === 'connected' || ice === 'completed',
    onState: (s) => states.push(s),
    restart: () => {
      sent++
      return new Promise<RestartResult>((resolve) => pending.push(resolve))
    },
  })
  return {
    policy,
    states,
    sent: () => sent,
    /** Answer the oldest re-INVITE still out. */
    answer: async (r: RestartResult) => {
      pending.shift()!(r)
      await vi.advanceTimersByTimeAsync(0)
    },
    ice: (state: string) => {
      ice = state
      policy.iceState(state)
    },
  }
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('IceRestartPolicy', () => {
  it('lets a short `disconnected` heal by itself, and restarts after the grace', async () => {
    const h = harness()
    h.ice('disconnected')
    await vi.advanceTimersByTimeAsync(DISCONNECTED_GRACE_MS - 100)
    h.ice('connected')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(h.sent()).toBe(0)
    expect(h.states).toEqual([])

    h.ice('disconnected')
    await vi.advanceTimersByTimeAsync(DISCONNECTED_GRACE_MS)
    expect(h.sent()).toBe(1)
    expect(h.states).toEqual(['reconnecting'])
    expect(h.policy.reconnecting).toBe(true)
    await h.answer('ok')
    h.ice('checking')
    h.ice('connected')
    expect(h.states).toEqual(['reconnecting', 'stable'])
    expect(h.policy.reconnecting).toBe(false)
  })

  it('restarts at once on `failed` and on a network change, one re-INVITE at a time', async () => {
    const h = harness()
    h.policy.networkChanged()
    expect(h.sent()).toBe(1)
    // More triggers while it is out change nothing.
    h.ice('disconnected')
    h.ice('failed')
    h.policy.networkChanged()
    await vi.advanceTimersByTimeAsync(DISCONNECTED_GRACE_MS * 2)
    expect(h.sent()).toBe(1)
    await h.answer('ok')
    h.ice('connected')
    expect(h.states).toEqual(['reconnecting', 'stable'])
  })

  it('after an answered restart that does not connect, tries again after the connect timeout', async () => {
    const h = harness()
    h.ice('failed')
    await h.answer('ok')
    h.ice('checking')
    await vi.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS - 1)
    expect(h.sent()).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(h.sent()).toBe(2)
  })

  it('on 491 waits RFC 3261 §14.1’s timer (Call-ID owner 2.1–4 s), and skips the retry if the peer’s restart connected', async () => {
    const owner = harness(true, () => 0)
    owner.ice('failed')
    await owner.answer('glare')
    await vi.advanceTimersByTimeAsync(2_099)
    expect(owner.sent()).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(owner.sent()).toBe(2)

    const other = harness(false, () => 0.999)
    other.ice('failed')
    await other.answer('glare')
    // The peer's re-INVITE gets through meanwhile and ICE connects.
    await vi.advanceTimersByTimeAsync(500)
    other.ice('connected')
    await vi.advanceTimersByTimeAsync(5_000)
    expect(other.sent()).toBe(1)
    expect(other.states).toEqual(['reconnecting', 'stable'])
  })

  it('a trigger during the 491 wait does not jump the timer', async () => {
    const h = harness(true, () => 0.5)
    h.ice('failed')
    await h.answer('glare')
    h.policy.networkChanged()
    h.ice('failed')
    expect(h.sent()).toBe(1)
    await vi.advanceTimersByTimeAsync(glareRetryMs(true, () => 0.5))
    expect(h.sent()).toBe(2)
  })

  it('gives up after the bounded number of attempts and says the call is lost, once', async () => {
    const h = harness()
    h.ice('failed')
    for (let i = 0; i < MAX_RESTART_ATTEMPTS; i++) {
      await h.answer('failed')
      await vi.advanceTimersByTimeAsync(5_000)
    }
    expect(h.sent()).toBe(MAX_RESTART_ATTEMPTS)
    expect(h.states).toEqual(['reconnecting', 'lost'])
    h.ice('failed')
    h.policy.networkChanged()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(h.sent()).toBe(MAX_RESTART_ATTEMPTS)
  })

  it('waits for the peer’s restart before sending its own', async () => {
    const h = harness()
    h.ice('disconnected')
    h.policy.remoteRestart()
    expect(h.states).toEqual(['reconnecting'])
    await vi.advanceTimersByTimeAsync(DISCONNECTED_GRACE_MS + 100)
    expect(h.sent()).toBe(0)
    h.ice('connected')
    await vi.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS)
    expect(h.sent()).toBe(0)
    expect(h.states).toEqual(['reconnecting', 'stable'])

    // And if the peer's restart does not connect, its own follows.
    h.ice('disconnected')
    h.policy.remoteRestart()
    await vi.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS)
    expect(h.sent()).toBe(1)
  })

  it('stops when the call closes', async () => {
    const h = harness()
    h.ice('disconnected')
    h.ice('closed')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(h.sent()).toBe(0)
  })
})

describe('glareRetryMs (RFC 3261 §14.1)', () => {
  it('is 2.1–4 s for the Call-ID owner and 0–2 s for the other side, in 10 ms units', () => {
    expect(glareRetryMs(true, () => 0)).toBe(2_100)
    expect(glareRetryMs(true, () => 0.999999)).toBe(4_000)
    expect(glareRetryMs(false, () => 0)).toBe(0)
    expect(glareRetryMs(false, () => 0.999999)).toBe(2_000)
    for (let i = 0; i < 200; i++) {
      const a = glareRetryMs(true)
      const b = glareRetryMs(false)
      expect(a % 10).toBe(0)
      expect(b % 10).toBe(0)
      expect(a).toBeGreaterThanOrEqual(2_100)
      expect(a).toBeLessThanOrEqual(4_000)
      expect(b).toBeGreaterThanOrEqual(0)
      expect(b).toBeLessThanOrEqual(2_000)
    }
  })
})

describe('ICE restart offers (RFC 8839 §4.4.1.1.1)', () => {
  const sdp = (ufrag: string) =>
    `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:${ufrag}\r\na=ice-pwd:x\r\n`
  it('are offers whose ice-ufrag differs from the current remote description', () => {
    expect(iceUfrag(sdp('abcd'))).toBe('abcd')
    expect(isIceRestartOffer(sdp('efgh'), sdp('abcd'))).toBe(true)
    // A hold re-INVITE keeps the credentials.
    expect(isIceRestartOffer(sdp('abcd'), sdp('abcd'))).toBe(false)
    expect(isIceRestartOffer(undefined, sdp('abcd'))).toBe(false)
    expect(isIceRestartOffer(sdp('abcd'), undefined)).toBe(false)
  })
})
