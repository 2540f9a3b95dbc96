/**
 * Call history, newest first, with outcome, duration, media path, whether a
 * SIP phone took part (encrypted only to its node), and a way to call back.
 */
import { useEffect } from 'react'
import type { CallRecordJson } from '../../shared/api/contract.js'
import { anchorHistoryNote } from '../call/call-encryption.js'
import type { CallHistoryEntry } from '../call/call-record.js'
import { t } from '../i18n/t.js'
import type { MessageKey } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { formatDuration, formatStamp } from './format.js'
import { useStore } from './hooks.js'
import type { Navigate } from './navigation.js'

const OUTCOME: Record<CallRecordJson['outcome'], MessageKey> = {
  answered: 'calls.answered',
  missed: 'calls.missedOutcome',
  declined: 'calls.declined',
  failed: 'calls.failed',
  cancelled: 'calls.cancelled',
}

export function CallsView(props: { nav: Navigate }) {
  const app = useApp()
  const { history, historyError } = useStore(app.calls.store)
  useEffect(() => {
    void app.calls.refreshHistory()
  }, [app])
  return (
    <section className="view" aria-labelledby="calls-title">
      <header className="view-header">
        <h1 id="calls-title">{t('calls.title')}</h1>
      </header>
      {historyError != null && (
        <p className="banner banner-warn" role="status">
          {historyError}
        </p>
      )}
      {history.length === 0 && <p className="empty">{t('calls.empty')}</p>}
      <ul className="call-list">
        {history.map((c) => (
          <CallRow key={c.id} call={c} nav={props.nav} />
        ))}
      </ul>
    </section>
  )
}

function CallRow({ call: c, nav }: { call: CallHistoryEntry; nav: Navigate }) {
  const missed = c.outcome === 'missed' && c.direction === 'in'
  const anchored = anchorHistoryNote(c.anchor, c.peer)
  const duration =
    c.answeredAt != null
      ? formatDuration(Date.parse(c.endedAt) - Date.parse(c.answeredAt))
      : undefined
  return (
    <li className={`call-row ${missed ? 'call-missed' : ''}`}>
      <span className={`call-dir call-dir-${c.direction}`} aria-hidden="true">
        {c.direction === 'in' ? '↙' : '↗'}
      </span>
      <div className="call-text">
        <span className="call-peer-name">{c.peer}</span>
        <span className="call-detail">
          {c.direction === 'in' ? t('calls.incoming') : t('calls.outgoing')}
          {' · '}
          {t(OUTCOME[c.outcome])}
          {duration != null && ` · ${duration}`}
          {c.path !== 'unknown' &&
            ` · ${c.path === 'relay' ? t('call.relayed') : t('call.direct')}`}
          {anchored != null && ` · ${anchored}`}
        </span>
      </div>
      <time className="call-when" dateTime={c.startedAt}>
        {formatStamp(c.startedAt)}
      </time>
      <button
        type="button"
        className="button button-small"
        aria-label={t('contacts.dialName', { name: c.peer })}
        onPointerEnter={() => nav.aboutToCall(c.peer)}
        onClick={() => nav.call(c.peer)}
      >
        {t('contacts.dial')}
      </button>
    </li>
  )
}
