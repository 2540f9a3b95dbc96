/**
 * A scripted KaiwaCall for the renderer's call tests (call-controller-fakes.ts,
 * group-call.test.ts): its flags and listeners, a phase the test moves, and
 * requests and media that do nothing. Tests that watch a request override it.
 */
import { vi } from 'vitest'
import type { MediaAnchorKind } from '../../../src/shared/sip/media-anchor.js'
import type { CallEnd, CallPhase, KaiwaCall } from '../../../src/renderer/sip/call-session.js'

export class ScriptedCall implements KaiwaCall {
  readonly displayName: string
  muted = false
  held = false
  heldByRemote = false
  reconnecting = false
  end: CallEnd | undefined
  anchor: MediaAnchorKind | undefined
  private readonly listeners = new Set<() => void>()

  constructor(
    readonly id: string,
    readonly peer: string,
    readonly direction: 'in' | 'out',
    public phase: CallPhase,
  ) {
    this.displayName = peer
  }

  onChange(l: () => void) {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  /** The call moves to `phase` (ending with `end`): its listeners hear of it. */
  emit(phase: CallPhase, end?: CallEnd) {
    this.phase = phase
    if (end) this.end = end
    for (const l of [...this.listeners]) l()
  }

  answer = () => Promise.resolve()
  decline = (_busy?: boolean) => Promise.resolve()
  hangup = () => Promise.resolve()
  setMuted(m: boolean) {
    this.muted = m
  }
  setHeld = () => Promise.resolve()
  sendDtmf = () => Promise.resolve('info' as const)
  remoteStream = () => undefined
  video = {
    source: 'none' as const,
    offered: false,
    unavailable: false,
    remoteLive: false,
    localStream: () => undefined,
    set: vi.fn(() => Promise.resolve()),
    setMaxBitrate: () => Promise.resolve(),
  }
  getStats = () => Promise.resolve(undefined)
}
