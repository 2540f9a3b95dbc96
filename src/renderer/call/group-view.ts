/**
 * A group call's model (the pairs of group-call.ts) and the view the screens
 * read from it (GroupCallView.tsx): one tile per member, its state, how the
 * pair is connected, and its video.
 */
import type { KaiwaCall } from '../sip/call-session.js'
import { MAX_MEMBERS, MAX_VIDEO_MEMBERS } from '../sip/conference-id.js'
import type { LegState } from './group-mesh.js'
import type { LegStats } from './group-stats.js'
import type { RemoteAudio } from './remote-audio.js'

export interface MemberView {
  peer: string
  /** calling: our INVITE rings; joining: on the roster, their INVITE is on its way. */
  state: 'calling' | 'joining' | 'connecting' | 'connected' | 'reconnecting'
  path: LegStats['path']
  remoteVideo: boolean
  stream: MediaStream | undefined
}

export interface GroupView {
  id: string
  self: string
  members: MemberView[]
  muted: boolean
  camera: boolean
  selfVideo: MediaStream | undefined
  busy: boolean
  /** Fewer than 5 people: Add to call can take one more. */
  canAdd: boolean
  /** At most 4 people: the camera may be on. */
  videoAllowed: boolean
}

export interface GroupState {
  group: GroupView | undefined
  notice: string | undefined
}

/** One pair's figures, for tests and diagnostics (`window.__kaiwaGroupStats`). */
export interface MemberStats extends LegStats {
  peer: string
  state: MemberView['state']
}

/** One pair: our dialog with one member. */
export interface Leg {
  peer: string
  call: KaiwaCall
  state: LegState
  audio: RemoteAudio
  stats: LegStats | undefined
  off: Array<() => void>
}

export interface Group {
  id: string
  members: Set<string>
  legs: Map<string, Leg>
  muted: boolean
  camera: MediaStreamTrack | undefined
  selfVideo: MediaStream | undefined
  busy: boolean
}

const NO_STATS: LegStats = { audioBytes: 0, audioPackets: 0, framesDecoded: 0, path: 'unknown' }

export function memberView(x: Group, peer: string): MemberView {
  const leg = x.legs.get(peer)
  if (leg == null)
    return { peer, state: 'joining', path: 'unknown', remoteVideo: false, stream: undefined }
  const state: MemberView['state'] =
    leg.state === 'outgoing'
      ? 'calling'
      : leg.state === 'incoming'
        ? 'connecting'
        : leg.call.reconnecting
          ? 'reconnecting'
          : 'connected'
  return {
    peer,
    state,
    path: leg.stats?.path ?? 'unknown',
    remoteVideo: leg.call.video.remoteLive,
    stream: leg.call.remoteStream(),
  }
}

export function groupView(x: Group, self: string): GroupView {
  return {
    id: x.id,
    self,
    members: [...x.members]
      .filter((m) => m !== self)
      .sort()
      .map((m) => memberView(x, m)),
    muted: x.muted,
    camera: x.camera != null,
    selfVideo: x.selfVideo,
    busy: x.busy,
    canAdd: x.members.size < MAX_MEMBERS,
    videoAllowed: x.members.size <= MAX_VIDEO_MEMBERS,
  }
}

export function memberStats(x: Group): MemberStats[] {
  return [...x.legs.values()].map((l) => ({
    peer: l.peer,
    state: memberView(x, l.peer).state,
    ...(l.stats ?? NO_STATS),
  }))
}
