/**
 * A group call (group-call.ts): a grid with a tile per member (their video
 * when it arrives, their name, how the pair is connected: direct or relayed
 * through a supernode's TURN) and one for ourselves, and the controls: Mute
 * and Camera (for every pair at once), Add to call, Leave call. Each
 * member's voice plays through its own audio element (not in the document).
 */
import { useEffect, useRef } from 'react'
import { t } from '../i18n/t.js'
import type { GroupView, MemberView } from '../call/group-call.js'
import { useApp } from './app-context.js'
import { AddToCall } from './AddToCall.js'
import { useStore } from './hooks.js'

function TileVideo({
  stream,
  label,
  mirrored,
}: {
  stream: MediaStream | undefined
  label: string
  mirrored?: boolean
}) {
  const ref = useRef<HTMLVideoElement | null>(null)
  useEffect(() => {
    const el = ref.current
    if (el == null) return
    if (el.srcObject !== (stream ?? null)) el.srcObject = stream ?? null
    if (stream != null) void el.play().catch(() => {})
  }, [stream])
  return (
    <video
      ref={ref}
      className={`tile-video${mirrored === true ? ' self-video-mirrored' : ''}`}
      aria-label={label}
      autoPlay
      playsInline
      muted
    />
  )
}

const STATE_KEY = {
  calling: 'groupCall.calling',
  joining: 'groupCall.joining',
  connecting: 'groupCall.connecting',
  connected: 'groupCall.connected',
  reconnecting: 'groupCall.reconnecting',
} as const

function MemberTile({ m }: { m: MemberView }) {
  const path =
    m.path === 'relayed'
      ? t('groupCall.relayed')
      : m.path === 'direct'
        ? t('groupCall.direct')
        : undefined
  return (
    <li className="group-tile" aria-label={t('groupCall.member', { peer: m.peer })}>
      {m.remoteVideo ? (
        <TileVideo stream={m.stream} label={t('video.remote', { peer: m.peer })} />
      ) : (
        <div className="avatar avatar-large" aria-hidden="true">
          {m.peer.slice(0, 1).toUpperCase()}
        </div>
      )}
      <p className="group-tile-name">
        {m.peer}
        <span className="group-tile-state">
          {' · '}
          {t(STATE_KEY[m.state])}
          {path != null && m.state === 'connected' ? ` (${path})` : ''}
        </span>
      </p>
    </li>
  )
}

export function GroupCallView({ group }: { group: GroupView }) {
  const app = useApp()
  const { notice } = useStore(app.groupCall.store)
  const count = group.members.length + 1
  return (
    <section className="call-panel group-call" aria-label={t('groupCall.region')}>
      <h2 className="call-peer">{t('groupCall.title', { count })}</h2>
      {notice != null && (
        <p className="call-note" role="alert">
          {notice}
        </p>
      )}
      <ul className="group-grid">
        <li className="group-tile" aria-label={t('groupCall.you')}>
          {group.selfVideo != null ? (
            <TileVideo stream={group.selfVideo} label={t('video.self')} mirrored />
          ) : (
            <div className="avatar avatar-large" aria-hidden="true">
              {group.self.slice(0, 1).toUpperCase()}
            </div>
          )}
          <p className="group-tile-name">{t('groupCall.you')}</p>
        </li>
        {group.members.map((m) => (
          <MemberTile key={m.peer} m={m} />
        ))}
      </ul>
      <div className="call-controls">
        <button
          type="button"
          className="button"
          aria-pressed={group.muted}
          onClick={() => app.groupCall.toggleMute()}
        >
          {t('call.mute')}
        </button>
        <button
          type="button"
          className="button"
          aria-pressed={group.camera}
          disabled={group.busy || (!group.camera && !group.videoAllowed)}
          onClick={() => void app.groupCall.toggleCamera()}
        >
          {t('video.camera')}
        </button>
        <AddToCall
          inCall={[group.self, ...group.members.map((m) => m.peer)]}
          disabled={!group.canAdd}
        />
        <button
          type="button"
          className="button button-hangup"
          onClick={() => void app.groupCall.leave()}
        >
          {t('groupCall.leave')}
        </button>
      </div>
    </section>
  )
}
