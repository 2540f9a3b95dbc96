/**
 * Fakes for the call controller tests: a scripted incoming call, and a
 * controller whose bridge keeps the node's call log in an array.
 */
import { vi } from 'vitest'
import type { KaiwaBridge } from '../../../src/shared/api/bridge.js'
import { apiContract } from '../../../src/shared/api/contract.js'
import type { CallRecordJson } from '../../../src/shared/api/contract.js'
import type { MediaAnchorKind } from '../../../src/shared/sip/media-anchor.js'
import type { Platform } from '../../../src/renderer/base/platform.js'
import { createCallController } from '../../../src/renderer/call/call-controller.js'
import type { CallEnd, CallPhase, KaiwaCall } from '../../../src/renderer/sip/call-session.js'
import type { KaiwaUserAgent } from '../../../src/renderer/sip/kaiwa-ua.js'
import { ScriptedCall } from './scripted-call.js'

/** A scripted incoming call in `phase`, with the end and media anchor given. */
export class FakeCall extends ScriptedCall {
  constructor(
    id: string,
    peer: string,
    phase: CallPhase,
    end: CallEnd | undefined,
    anchor: MediaAnchorKind | undefined,
  ) {
    super(id, peer, 'in', phase)
    this.end = end
    this.anchor = anchor
  }
}

/**
 * A call controller on a faked user agent and bridge; `deliver` hands it an
 * incoming call. `logged` is the node's call log. Like the real node and bridges, the fake
 * checks `callLog` input against the contract (strict: an unknown field is
 * refused) and passes `calls` output through it (unknown fields are dropped).
 */
export function setupCalls(foreground = false, logged: CallRecordJson[] = []) {
  const bridge = {
    call: vi.fn((method: string, input: unknown) => {
      if (method === 'callLog') logged.push(apiContract.callLog.input.parse(input))
      if (method === 'calls')
        return Promise.resolve(apiContract.calls.output.parse({ calls: logged }))
      return Promise.resolve({})
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
    cameraStarting: () => Promise.resolve(),
    cameraStopped: () => {},
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

export const tick = () => new Promise((r) => setTimeout(r, 0))

/** A call logged by the node, as `calls` lists it. */
export function nodeCall(id: string, peer: string, startedAt: string): CallRecordJson {
  return {
    id,
    peer,
    direction: 'out',
    outcome: 'answered',
    startedAt,
    answeredAt: startedAt,
    endedAt: startedAt,
    path: 'direct',
  }
}
