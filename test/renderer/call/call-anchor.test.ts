/**
 * The call controller with the session faked: a call refused before it rang
 * (an offer this app cannot use) is told and logged, and the far end's media
 * anchor reaches the call view and the history.
 */
import { describe, expect, it, vi } from 'vitest'
import type { KaiwaBridge } from '../../../src/shared/api/bridge.js'
import type { CallRecordJson } from '../../../src/shared/api/contract.js'
import type { MediaAnchorKind } from '../../../src/shared/sip/media-anchor.js'
import type { Platform } from '../../../src/renderer/base/platform.js'
import { createCallController } from '../../../src/renderer/call/call-controller.js'
import type { CallEnd, CallPhase, KaiwaCall } from '../../../src/renderer/sip/call-session.js'
import type { KaiwaUserAgent } from '../../../src/renderer/sip/kaiwa-ua.js'

class FakeCall implements KaiwaCall {
  readonly direction = 'in' as const
  readonly displayName: string
  muted = false
  held = false
  heldByRemote = false
  private listeners = new Set<() => void>()
  constructor(
    readonly id: string,
    readonly peer: string,
    public phase: CallPhase,
    public end: CallEnd | undefined,
    public anchor: MediaAnchorKind | undefined,
  ) {
    this.displayName = peer
  }
  onChange(l: () => void) {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }
  emit(phase: CallPhase, end?: CallEnd) {
    this.phase = phase
    if (end) this.end = end
    for (const l of [...this.listeners]) l()
  }
  answer = () => Promise.resolve()
  decline = () => Promise.resolve()
  hangup = () => Promise.resolve()
  setMuted() {}
  setHeld = () => Promise.resolve()
  sendDtmf = () => Promise.resolve('info' as const)
  remoteStream = () => undefined
  getStats = () => Promise.resolve(undefined)
}

function setup(foreground = false) {
  const logged: CallRecordJson[] = []
  const bridge = {
    call: vi.fn((method: string, input: unknown) => {
      if (method === 'callLog') logged.push(input as CallRecordJson)
      return Promise.resolve(method === 'calls' ? { calls: [...logged] } : {})
    }),
  } as unknown as KaiwaBridge
  const notify = vi.fn()
  const platform = {
    kind: 'web',
    notify,
    foreground: () => foreground,
    notificationPermission: () => 'granted',
    askNotifications: () => Promise.resolve('granted'),
    callStarting: () => Promise.resolve(),
    callEnded: () => {},
    versions: {},
  } as Platform
  const silent = { ring() {}, ringback() {}, dtmf() {}, stop() {}, setSink() {} }
  const audio = { attach() {}, detach() {}, setSink: () => Promise.resolve(), sinkSupported: false }
  const calls = createCallController({
    bridge,
    platform,
    tones: silent,
    audio,
    micId: () => undefined,
  })
  let deliver: (c: KaiwaCall) => void = () => {}
  const ua = {
    onIncomingCall(cb: (c: KaiwaCall) => void) {
      deliver = cb
      return () => {}
    },
  } as unknown as KaiwaUserAgent
  calls.attach(ua)
  return { calls, deliver: (c: KaiwaCall) => deliver(c), notify, logged }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('call controller: anchored and refused calls', () => {
  it('tells the user about a call refused before it rang, notifies, and logs it as failed', async () => {
    const { calls, deliver, notify, logged } = setup(false)
    const end: CallEnd = {
      outcome: 'failed',
      by: 'local',
      status: 488,
      reason: 'Not Acceptable Here',
      offerProblem: { kind: 'not-encrypted', text: 'no DTLS-SRTP fingerprint (plain RTP/AVP)' },
    }
    deliver(new FakeCall('c1', 'alice', 'ended', end, undefined))
    await tick()
    const state = calls.store.get()
    expect(state.current).toBeUndefined()
    expect(state.notice?.tone).toBe('error')
    expect(state.notice?.text).toBe(
      'alice called from a SIP phone whose audio this app cannot receive (no DTLS-SRTP fingerprint (plain RTP/AVP)). Ask alice to call from the Kaiwa app, or to update the Kaiwa node that phone uses so it can connect phone calls.',
    )
    expect(notify).toHaveBeenCalledWith('Missed call', state.notice?.text)
    expect(logged.map((r) => [r.peer, r.direction, r.outcome])).toEqual([['alice', 'in', 'failed']])
  })

  it('shows where encryption ends on an anchored call, and keeps it in this session’s history', async () => {
    const { calls, deliver, logged } = setup(true)
    const c = new FakeCall('c2', 'alice', 'incoming', undefined, 'phone')
    deliver(c)
    expect(calls.store.get().current).toMatchObject({ peer: 'alice', anchor: 'phone' })
    c.emit('active')
    c.emit('ended', { outcome: 'answered', by: 'remote', reason: 'Hung up' })
    await tick()
    // The node's copy has no anchor field; the history row keeps this session's.
    expect(logged[0]).not.toHaveProperty('anchor')
    expect(calls.store.get().history.map((h) => [h.id, h.outcome, h.anchor])).toEqual([
      ['c2', 'answered', 'phone'],
    ])
    expect(calls.store.get().notice).toBeUndefined()
  })

  it('leaves end-to-end calls without an anchor', () => {
    const { calls, deliver } = setup(true)
    deliver(new FakeCall('c3', 'bob', 'incoming', undefined, undefined))
    expect(calls.store.get().current).not.toHaveProperty('anchor')
  })
})
