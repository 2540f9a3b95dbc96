/**
 * Group calls (issue 14 §3): up to 5 people with audio, 4 with video, as a
 * full mesh of ordinary calls, one per pair, each with its own peer
 * connection and ICE. How the mesh is set up, who may join and how glare is
 * settled is group-mesh.ts; this runs it over the user agent and the call
 * controller:
 *
 * - a one-to-one call becomes a group call when its user presses Add to call
 *   (the call controller hands the call over, `release()`), when the other
 *   side's roster update arrives on it, or when the call was an invitation
 *   into a conference and is answered (then this side INVITEs the others);
 * - INVITEs for the conference are claimed before the call controller sees
 *   them (`claim`), and auto-accepted only as group-mesh.ts `admit` says;
 * - Mute and Camera apply to every pair; each pair's far-end audio plays in
 *   its own audio element, its video in the grid (GroupCallView.tsx);
 * - Leave hangs up every pair (a BYE each).
 */
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'
import type { Platform } from '../base/platform.js'
import { t } from '../i18n/t.js'
import type { MessageKey } from '../i18n/t.js'
import { normalizeUserId } from '../../shared/user-id.js'
import type { KaiwaCall } from '../sip/call-session.js'
import type { KaiwaUserAgent } from '../sip/kaiwa-ua.js'
import type { CallMedia } from '../sip/media-handler.js'
import {
  conferenceHeaderLine,
  MAX_MEMBERS,
  MAX_VIDEO_MEMBERS,
  newConferenceId,
} from '../sip/conference-id.js'
import type { Conference } from '../sip/conference-id.js'
import type { CallController } from './call-controller.js'
import { withGlareRetry } from './glare-retry.js'
import { GroupAdmission } from './group-admission.js'
import { addProblem, mergeRoster, peersToInvite } from './group-mesh.js'
import type { AddProblem, LegState, MeshState } from './group-mesh.js'
import { legStats } from './group-stats.js'
import type { StatsEntry } from './call-quality.js'
import type { RemoteAudio } from './remote-audio.js'
import { groupView, memberStats } from './group-view.js'
import type { Group, GroupState, Leg, MemberStats } from './group-view.js'

export type { GroupState, GroupView, MemberStats, MemberView } from './group-view.js'

export interface GroupCallDeps {
  calls: Pick<CallController, 'store' | 'current' | 'release'>
  platform: Pick<Platform, 'callStarting' | 'callEnded' | 'cameraStarting' | 'cameraStopped'>
  /** ICE servers and constraints for one more pair (`video`: with the camera). */
  media(video: boolean): Promise<CallMedia>
  /** A camera track for the self view; each pair sends a clone. */
  camera(): Promise<MediaStreamTrack>
  /** A new audio element for one pair's far end. */
  makeAudio(): RemoteAudio
  log(text: string): void
  /** How long an INVITE from someone not yet on the roster waits for the roster update. @default 10000 */
  rosterWaitMs?: number
  /** @default 1500 */
  statsEveryMs?: number
}

export interface GroupCallController {
  store: Store<GroupState>
  attach(ua: KaiwaUserAgent): () => void
  /** Called by the call controller for every incoming call: true when the group takes it. */
  claim(call: KaiwaCall): boolean
  /** Add to call: invite `user` into the current call (which becomes a group call). */
  add(user: string): Promise<void>
  leave(): Promise<void>
  toggleMute(): void
  toggleCamera(): Promise<void>
  dismissNotice(): void
  /** Each pair's figures, sampled now. */
  stats(): Promise<MemberStats[]>
}

const ADD_PROBLEM = {
  full: 'groupCall.full',
  member: 'groupCall.already',
  self: 'groupCall.self',
} as const satisfies Record<AddProblem, MessageKey>

export function createGroupCallController(deps: GroupCallDeps): GroupCallController {
  const { log, platform } = deps
  const store = createStore<GroupState>({ group: undefined, notice: undefined })
  let ua: KaiwaUserAgent | undefined
  let self = ''
  let g: Group | undefined
  const admission = new GroupAdmission({
    mesh: () => mesh(),
    accept: (c, cancelOwn) => void accept(g!, c, cancelOwn),
    log,
    waitMs: deps.rosterWaitMs ?? 10_000,
  })
  let poll: ReturnType<typeof setInterval> | undefined
  let watched: KaiwaCall | undefined
  let offWatched: (() => void) | undefined

  const notice = (text: string | undefined): void => store.patch({ notice: text })
  const conference = (x: Group): Conference => ({ id: x.id, members: [...x.members].sort() })
  const mesh = (): MeshState | undefined =>
    g == null
      ? undefined
      : {
          id: g.id,
          self,
          members: g.members,
          legs: new Map([...g.legs].map(([p, l]) => [p, l.state])),
        }

  /** A group around `first`, the call controller's call it takes over (audio re-attached here). */
  const sync = (): void => store.patch({ group: g == null ? undefined : groupView(g, self) })

  function start(id: string, members: Iterable<string>, first: KaiwaCall): Group {
    const x: Group = {
      id,
      members: new Set([...members, first.peer, self]),
      legs: new Map(),
      muted: first.muted,
      camera: undefined,
      selfVideo: undefined,
      busy: false,
    }
    g = x
    poll = setInterval(() => void sampleAll(), deps.statsEveryMs ?? 1500)
    addLeg(x, first.peer, first, 'incoming')
    return x
  }

  async function sampleAll(): Promise<void> {
    const x = g
    if (x == null) return
    await Promise.all(
      [...x.legs.values()].map(async (leg) => {
        if (leg.state !== 'active') return
        const report = await leg.call.getStats().catch(() => undefined)
        if (report == null) return
        const entries: StatsEntry[] = []
        report.forEach((s: StatsEntry) => entries.push(s))
        leg.stats = legStats(entries)
      }),
    )
    if (x === g) sync()
  }

  function end(): void {
    const x = g
    if (x == null) return
    if (poll !== undefined) clearInterval(poll)
    poll = undefined
    x.camera?.stop()
    if (x.camera != null) platform.cameraStopped()
    admission.clear()
    g = undefined
    platform.callEnded()
    sync()
  }

  function addLeg(x: Group, peer: string, call: KaiwaCall, state: LegState): void {
    const leg: Leg = { peer, call, state, audio: deps.makeAudio(), stats: undefined, off: [] }
    x.legs.set(peer, leg)
    const onChange = (): void => {
      if (g !== x || x.legs.get(peer) !== leg) return
      if (call.phase === 'ended') return removeLeg(x, leg)
      if (call.phase === 'active' && leg.state !== 'active') becameActive(x, leg)
      sync()
    }
    leg.off.push(call.onChange(onChange))
    const roster = call.conference?.onRoster((c) => onRoster(x, c))
    if (roster != null) leg.off.push(roster)
    onChange()
  }

  function becameActive(x: Group, leg: Leg): void {
    leg.state = 'active'
    leg.audio.attach(leg.call.remoteStream())
    leg.call.setMuted(x.muted)
    // The roster may have grown while our INVITE rang: tell them. Only the side that sent the
    // INVITE does: sip.js drops an INFO that reaches an Inviter before its ACK is sent.
    if (leg.call.direction === 'out')
      void leg.call.conference
        ?.sendRoster(conference(x))
        .catch((err: unknown) => log(`roster to ${leg.peer}: ${String(err)}`))
    const v = leg.call.video
    if (x.camera != null && v.source === 'none' && !v.unavailable) void videoTo(x, leg, x.camera)
  }

  function removeLeg(x: Group, leg: Leg): void {
    const e = leg.call.end
    log(`group: ${leg.peer} is gone (${e?.outcome} ${e?.status ?? ''} ${e?.reason ?? ''})`)
    for (const off of leg.off) off()
    leg.audio.detach()
    x.legs.delete(leg.peer)
    x.members.delete(leg.peer)
    if (x.legs.size === 0) end()
    else sync()
  }

  function onRoster(x: Group, c: Conference): void {
    if (g !== x || c.id !== x.id) return
    x.members = mergeRoster(x.members, c, self)
    enforceVideoCap(x)
    admission.retry()
    sync()
  }

  function enforceVideoCap(x: Group): void {
    if (x.camera == null || x.members.size <= MAX_VIDEO_MEMBERS) return
    void setCamera(x, false)
    notice(t('groupCall.videoOff', { max: MAX_VIDEO_MEMBERS }))
  }

  /** Place an INVITE of the conference to each of `peers`. */
  async function invite(x: Group, peers: string[]): Promise<void> {
    if (peers.length === 0 || ua == null) return
    const m = await deps.media(x.camera != null)
    for (const peer of peers) {
      if (g !== x || x.legs.has(peer) || ua == null) continue
      addLeg(x, peer, ua.call(peer, m, [conferenceHeaderLine(conference(x))]), 'outgoing')
    }
    sync()
  }

  async function accept(x: Group, c: KaiwaCall, cancelOwn: boolean): Promise<void> {
    const own = x.legs.get(c.peer)
    if (cancelOwn && own != null) {
      // Glare: the pair placed by the lower user ID wins (group-mesh.ts step 4).
      for (const off of own.off) off()
      own.audio.detach()
      x.legs.delete(c.peer)
      void own.call.hangup()
    }
    addLeg(x, c.peer, c, 'incoming')
    sync()
    try {
      await platform.callStarting()
      await c.answer(await deps.media(x.camera != null))
    } catch (err) {
      log(`group: answering ${c.peer} failed: ${String(err)}`)
      void c.hangup()
    }
  }

  /** The call controller's current call: a roster update or an answered invitation makes it a group. */
  function watchCurrent(): void {
    const c = deps.calls.current()
    if (c !== watched) {
      offWatched?.()
      offWatched = undefined
      watched = c
      offWatched = c?.conference?.onRoster((r) => {
        if (g != null || deps.calls.current() !== c || c.phase !== 'active') return
        if (!r.members.includes(c.peer) || !r.members.includes(self)) return
        join(c, r, false)
      })
    }
    const invited = c?.conference?.invite
    if (c != null && g == null && c.phase === 'active' && c.direction === 'in' && invited != null)
      join(c, invited, true)
  }

  /** Take the call controller's call into a group; `newcomer`: then INVITE the other members. */
  function join(c: KaiwaCall, conf: Conference, newcomer: boolean): void {
    if (deps.calls.release() !== c) return
    offWatched?.()
    offWatched = undefined
    watched = undefined
    const x = start(conf.id, conf.members, c)
    sync()
    if (newcomer) void invite(x, peersToInvite(mesh()!, c.peer))
  }

  async function setCamera(x: Group, on: boolean): Promise<void> {
    if (on) {
      await platform.cameraStarting()
      const track = await deps.camera()
      if (g !== x) return track.stop()
      x.camera = track
      x.selfVideo = new MediaStream([track])
      sync()
      await Promise.all(
        [...x.legs.values()].map((leg) => {
          if (leg.state !== 'active' || leg.call.video.unavailable) return
          return videoTo(x, leg, track)
        }),
      )
    } else {
      x.camera?.stop()
      x.camera = undefined
      x.selfVideo = undefined
      platform.cameraStopped()
      sync()
      await Promise.all(
        [...x.legs.values()].map((leg) =>
          leg.call.video.source === 'none' ? undefined : videoTo(x, leg, undefined),
        ),
      )
    }
  }

  /** Send our camera (a clone of `track`) to one pair, or stop; retried after glare. */
  async function videoTo(x: Group, leg: Leg, track: MediaStreamTrack | undefined): Promise<void> {
    const wanted = (): boolean =>
      g === x && x.legs.get(leg.peer) === leg && (x.camera != null) === (track != null)
    await withGlareRetry(
      () =>
        track != null
          ? leg.call.video.source === 'camera'
            ? Promise.resolve()
            : leg.call.video.set('camera', track.clone())
          : leg.call.video.set('none'),
      { ownsCallId: leg.call.direction === 'out', wanted },
    ).catch((e: unknown) =>
      log(`camera ${track != null ? 'to' : 'off for'} ${leg.peer}: ${String(e)}`),
    )
  }

  deps.calls.store.subscribe(() => watchCurrent())

  return {
    store,
    attach(next) {
      ua = next
      self = /^sips?:([^@]+)@/.exec(next.aor)?.[1] ?? ''
      return () => {
        if (ua === next) ua = undefined
      }
    },
    claim: (c) => (c.phase === 'ended' ? false : admission.decide(c)),
    async add(input) {
      let user: string
      try {
        user = normalizeUserId(input)
      } catch {
        return notice(t('call.invalidUserId', { input: input.trim() }))
      }
      if (ua == null) return notice(t('call.notConnected'))
      let x = g
      if (x == null) {
        const c = deps.calls.current()
        if (c == null || c.phase !== 'active' || deps.calls.release() !== c) return
        x = start(newConferenceId(), [], c)
      }
      const problem = addProblem(x.members, self, user)
      if (problem != null) return notice(t(ADD_PROBLEM[problem], { peer: user, max: MAX_MEMBERS }))
      notice(undefined)
      x.members.add(user)
      enforceVideoCap(x)
      sync()
      const roster = conference(x)
      for (const leg of x.legs.values()) {
        if (leg.state !== 'active') continue
        void leg.call.conference
          ?.sendRoster(roster)
          .catch((err: unknown) => log(`roster to ${leg.peer}: ${String(err)}`))
      }
      await invite(x, [user])
    },
    async leave() {
      const x = g
      if (x == null) return
      await Promise.all([...x.legs.values()].map((l) => l.call.hangup().catch(() => {})))
      if (g === x && x.legs.size === 0) end()
    },
    toggleMute() {
      if (g == null) return
      g.muted = !g.muted
      for (const leg of g.legs.values()) leg.call.setMuted(g.muted)
      sync()
    },
    async toggleCamera() {
      const x = g
      if (x == null || x.busy) return
      if (x.camera == null && x.members.size > MAX_VIDEO_MEMBERS)
        return notice(t('groupCall.videoOff', { max: MAX_VIDEO_MEMBERS }))
      x.busy = true
      sync()
      try {
        await setCamera(x, x.camera == null)
      } catch (err) {
        log(`group camera: ${String(err)}`)
        notice(
          t('groupCall.cameraFailed', { reason: err instanceof Error ? err.message : String(err) }),
        )
      } finally {
        x.busy = false
        sync()
      }
    },
    dismissNotice: () => notice(undefined),
    async stats() {
      await sampleAll()
      return g == null ? [] : memberStats(g)
    },
  }
}
