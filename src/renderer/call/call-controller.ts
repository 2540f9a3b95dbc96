/**
 * The calling engine as the screens use it: at most one call at a time (a
 * second incoming one is refused 486 Busy Here and logged as missed), its
 * tones, notification, remote audio, live quality, timer fields, video
 * (video-controller.ts), and the call history (`calls`, `callLog`). Screens
 * read `store` and call the actions.
 */
import { unverifiedPeer } from '../../shared/identity/verification-state.js'
import type { MediaPath } from '../../shared/api/contract.js'
import { normalizeUserId } from '../../shared/user-id.js'
import { createStore } from '../base/store.js'
import { t } from '../i18n/t.js'
import type { KaiwaCall } from '../sip/call-session.js'
import type { KaiwaUserAgent } from '../sip/kaiwa-ua.js'
import { audioConstraints, peerConnectionConfiguration } from '../sip/media-handler.js'
import type { CallMedia } from '../sip/media-handler.js'
import { WarmConnections } from '../sip/warm-connection.js'
import { afterPaint } from '../base/after-paint.js'
import { RouteWarmer } from './route-warmer.js'
import { callRecord, mergeCallHistory } from './call-record.js'
import type { CallHistoryEntry } from './call-record.js'
import { callView, preparingView } from './call-view.js'
import { describeCallEnd, describeMediaError } from './call-messages.js'
import { fetchIceServers } from './ice-servers.js'
import { cameraConstraints, createVideoController } from './video-controller.js'
import { qualityFromStats } from './call-quality.js'
import type { CallQuality, StatsEntry, StatsSnapshot } from './call-quality.js'

export type { CallView } from './call-view.js'

export type {
  Notice,
  CallsState,
  CallControllerDeps,
  CallOptions,
  CallController,
} from './call-controller-types.js'
import type {
  CallController,
  CallControllerDeps,
  CallOptions,
  CallsState,
  Notice,
} from './call-controller-types.js'

const STATS_EVERY_MS = 1000

export function createCallController(deps: CallControllerDeps): CallController {
  const { bridge, tones, audio, platform } = deps
  const log = deps.log ?? (() => {})
  const store = createStore<CallsState>({
    current: undefined,
    notice: undefined,
    history: [],
    historyError: undefined,
  })
  let ua: KaiwaUserAgent | undefined
  let call: KaiwaCall | undefined
  let preparing: { peer: string; aborted: boolean } | undefined
  let localHistory: CallHistoryEntry[] = []
  let poll: ReturnType<typeof setInterval> | undefined
  let snapshot: StatsSnapshot | undefined
  let quality: CallQuality | undefined
  let path: MediaPath = 'unknown'
  let answeredAt: number | undefined
  let startedAt = 0
  let dtmfSent = ''
  let busy = false

  const notice = (text: string | undefined, tone: Notice['tone'] = 'error'): void =>
    store.patch({ notice: text === undefined ? undefined : { text, tone } })

  const sync = (): void =>
    store.patch({
      current:
        call != null
          ? callView(call, { startedAt, answeredAt, quality, path, dtmf: dtmfSent, busy })
          : preparing != null
            ? preparingView(preparing.peer, startedAt)
            : undefined,
    })

  const warm = new WarmConnections({
    iceServers: () => fetchIceServers(bridge, log),
    configuration: peerConnectionConfiguration,
    ...(deps.createPeerConnection != null ? { create: deps.createPeerConnection } : {}),
    log,
  })
  const routes = new RouteWarmer({
    prepare: (name) => bridge.call('prepareCall', { name }),
  })
  const media = async (video = false, placing = false): Promise<CallMedia> => {
    // A call we place takes the warm connection when there is one (same servers).
    const iceServers = await ((placing ? warm.iceServers() : undefined) ??
      fetchIceServers(bridge, log))
    const pc = placing ? warm.take(iceServers) : undefined
    return {
      iceServers,
      audio: audioConstraints(deps.micId()),
      ...(video ? { video: cameraConstraints(deps.cameraId?.()) } : {}),
      ...(pc != null ? { peerConnection: pc } : {}),
    }
  }
  const video = createVideoController({
    platform,
    media: deps.media,
    cameraId: () => deps.cameraId?.(),
    maxKbps: () => deps.videoKbps?.(),
    current: () => call,
    notice,
    log,
  })

  async function sample(c: KaiwaCall): Promise<void> {
    const report = await c.getStats().catch(() => undefined)
    if (report == null || c !== call) return
    const entries: StatsEntry[] = []
    report.forEach((s: StatsEntry) => entries.push(s))
    quality = qualityFromStats(entries, snapshot)
    snapshot = quality.snapshot
    if (quality.path !== 'unknown') path = quality.path
    video.sample(quality)
    sync()
  }

  const stopPolling = (): void => {
    if (poll !== undefined) clearInterval(poll)
    poll = undefined
  }

  function track(c: KaiwaCall): void {
    call = c
    startedAt = Date.now()
    answeredAt = undefined
    snapshot = undefined
    quality = undefined
    path = 'unknown'
    dtmfSent = ''
    busy = false
    video.reset()
    const off = c.onChange(() => {
      if (c !== call) return
      // The tone after the "Ringing…" screen is painted (after-paint.ts).
      if (c.phase === 'ringing' && c.direction === 'out')
        afterPaint(() => {
          if (c === call && c.phase === 'ringing') tones.ringback()
        })
      if (c.phase === 'connecting') tones.stop()
      if (c.phase === 'active' && answeredAt === undefined) {
        answeredAt = Date.now()
        tones.stop()
        audio.attach(c.remoteStream())
        stopPolling()
        poll = setInterval(() => void sample(c), STATS_EVERY_MS)
      }
      if (c.phase === 'ended') {
        off()
        finish(c)
        return
      }
      sync()
    })
    sync()
  }

  function finish(c: KaiwaCall): void {
    stopPolling()
    tones.stop()
    audio.detach()
    platform.callEnded()
    tell(c)
    record(c, answeredAt, startedAt, path)
    call = undefined
    sync()
  }

  /** The notice for a finished call; a call the user never got to answer also notifies. */
  function tell(c: KaiwaCall): void {
    const end = c.end ?? { outcome: 'failed' as const, by: 'local' as const, reason: '' }
    const text = describeCallEnd(end, c.peer, c.direction)
    if (text === undefined) return
    notice(text, end.outcome === 'missed' ? 'info' : 'error')
    const unanswered = end.outcome === 'missed' || end.offerProblem != null
    if (c.direction === 'in' && unanswered && !platform.foreground())
      platform.notify(t('notify.missedTitle'), text)
  }

  function record(
    c: KaiwaCall,
    answered: number | undefined,
    started: number,
    mediaPath: MediaPath,
  ): void {
    const rec = callRecord({
      id: c.id,
      // A caller whose key was not the pinned one never joins that contact's history.
      peer:
        c.verification?.state === 'mismatch'
          ? unverifiedPeer(c.peer, c.verification.fingerprint)
          : c.peer,
      direction: c.direction,
      end: c.end ?? { outcome: 'failed', by: 'local', reason: '' },
      startedAt: started,
      answeredAt: answered,
      endedAt: Date.now(),
      path: mediaPath,
    })
    if (rec == null) return
    // The node keeps the anchor with the call (calls v3), so the Calls tab shows
    // it after a restart too; this session's copy covers a node it did not reach.
    const entry: CallHistoryEntry = c.anchor != null ? { ...rec, anchor: c.anchor } : rec
    localHistory = [entry, ...localHistory].slice(0, 200)
    store.patch({ history: mergeCallHistory(store.get().history, [entry]) })
    bridge
      .call('callLog', entry)
      .then(() => refreshHistory())
      .catch((err: unknown) => log(`callLog failed: ${String(err)}`))
  }

  async function refreshHistory(): Promise<void> {
    try {
      const { calls } = await bridge.call('calls', { limit: 200 })
      store.patch({ history: mergeCallHistory(calls, localHistory), historyError: undefined })
    } catch {
      store.patch({
        history: mergeCallHistory([], localHistory),
        historyError: t('calls.historyUnavailable'),
      })
    }
  }

  function incoming(c: KaiwaCall): void {
    if (deps.claimIncoming?.(c) === true) return
    if (c.phase === 'ended') {
      // Refused before it rang (an offer this app cannot use): say who called and why.
      tell(c)
      record(c, undefined, Date.now(), 'unknown')
      return
    }
    if (call != null || preparing != null) {
      // One call at a time: the caller hears busy, the user sees a missed call.
      const started = Date.now()
      c.onChange(() => {
        if (c.phase === 'ended') record(c, undefined, started, 'unknown')
      })
      void c.decline(true)
      return
    }
    track(c)
    // The ringing screen first; the ringtone and the notification one frame later (after-paint.ts).
    afterPaint(() => {
      if (c !== call || c.phase !== 'incoming') return
      tones.ring()
      platform.notify(t('notify.incomingTitle'), t('notify.incomingBody', { peer: c.displayName }))
    })
  }

  async function dial(input: string, opts: CallOptions = {}): Promise<void> {
    if (call != null || preparing != null) return notice(t('call.alreadyInCall'))
    let peer: string
    try {
      peer = normalizeUserId(input)
    } catch {
      return notice(t('call.invalidUserId', { input: input.trim() }))
    }
    if (ua == null) return notice(t('call.notConnected'))
    notice(undefined)
    preparing = { peer, aborted: false }
    startedAt = Date.now()
    sync()
    const p = preparing
    // Warm the overlay route (DHT lookup, links to the callee's devices) while
    // ICE gathers, unless the dial box did already; the INVITE then finds it cached.
    routes.go(peer)
    try {
      await platform.callStarting()
      if (opts.video === true) await platform.cameraStarting()
      const m = await media(opts.video, true)
      if (p.aborted || ua == null) {
        m.peerConnection?.close()
        return
      }
      track(ua.call(peer, m))
    } catch (err) {
      notice(err instanceof Error ? describeMediaError(err) : String(err))
    } finally {
      if (preparing === p) preparing = undefined
      sync()
    }
  }

  async function answer(opts: CallOptions = {}): Promise<void> {
    const c = call
    if (c == null || c.phase !== 'incoming') return
    tones.stop()
    // The camera goes into the answer only when the offer has video to answer.
    const withVideo = opts.video === true && c.video.offered
    try {
      await platform.callStarting()
      if (withVideo) await platform.cameraStarting()
      await c.answer(await media(withVideo))
    } catch (err) {
      log(`answer failed: ${String(err)}`)
    }
  }

  return {
    store,
    attach(next) {
      ua = next
      const off = next.onIncomingCall(incoming)
      return () => {
        off()
        if (ua === next) ua = undefined
      }
    },
    dial,
    prepare: (input, when = 'now') => {
      if (call != null || preparing != null) return
      warm.prepare()
      if (input != null) routes.want(input, when)
    },
    answer,
    video,
    async decline() {
      tones.stop()
      await call?.decline(false)
    },
    async hangup() {
      if (preparing != null) {
        preparing.aborted = true
        preparing = undefined
        sync()
        return
      }
      await call?.hangup()
    },
    toggleMute() {
      if (call == null) return
      call.setMuted(!call.muted)
    },
    async toggleHold() {
      const c = call
      if (c == null || c.phase !== 'active') return
      busy = true
      sync()
      try {
        await c.setHeld(!c.held)
      } catch (err) {
        notice(t('call.holdFailed', { reason: err instanceof Error ? err.message : String(err) }))
      } finally {
        busy = false
        if (c === call) sync()
      }
    },
    dtmf(key) {
      const c = call
      if (c == null || c.phase !== 'active') return
      tones.dtmf(key)
      dtmfSent = (dtmfSent + key).slice(-32)
      sync()
      c.sendDtmf(key).catch((err: unknown) =>
        notice(t('call.dtmfFailed', { reason: err instanceof Error ? err.message : String(err) })),
      )
    },
    dismissNotice: () => notice(undefined),
    refreshHistory,
    latestQuality: () => (call != null ? quality : undefined),
    current: () => call,
    release() {
      const c = call
      if (c == null) return undefined
      stopPolling()
      tones.stop()
      audio.detach()
      call = undefined
      sync()
      return c
    },
  }
}
