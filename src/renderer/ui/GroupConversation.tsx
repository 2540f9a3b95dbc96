/**
 * One group: its members (admins can remove and add), its messages in the
 * order every member shows, who each sent message reached, and the composer
 * (Enter sends, Shift+Enter starts a new line).
 */
import { useEffect, useRef, useState } from 'react'
import type { FormEvent, KeyboardEvent } from 'react'
import type { GroupJson, GroupMessageJson } from '../../shared/api/contract.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { formatStamp } from './format.js'
import { useStore } from './hooks.js'

export function GroupConversation(props: { group: GroupJson }) {
  const app = useApp()
  const state = useStore(app.groups.store)
  const session = useStore(app.session.store)
  const [text, setText] = useState('')
  const [adding, setAdding] = useState('')
  const listRef = useRef<HTMLOListElement>(null)
  const { group } = props
  const messages = state.messages[group.id] ?? []
  const me = session.name
  const admin = me != null && group.admins.includes(me)

  useEffect(() => {
    const el = listRef.current
    if (el) el.scrollTop = el.scrollHeight
  }, [messages.length])

  const send = (e?: FormEvent): void => {
    e?.preventDefault()
    const body = text.trim()
    if (body === '' || state.sending) return
    setText('')
    void app.groups.send(body)
  }
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault()
      send()
    }
  }
  const add = (e: FormEvent): void => {
    e.preventDefault()
    const name = adding.trim()
    if (name === '') return
    setAdding('')
    void app.groups.add(name)
  }

  return (
    <section className="conversation" aria-label={t('groups.with', { name: group.name })}>
      <header className="conversation-header">
        <span className="avatar" aria-hidden="true">
          {group.name.slice(0, 1).toUpperCase()}
        </span>
        <h2>{group.name}</h2>
        {group.member && (
          <button
            type="button"
            className="button button-small"
            onClick={() => void app.groups.leave()}
          >
            {t('groups.leave')}
          </button>
        )}
      </header>
      <details className="group-members">
        <summary>
          {t('groups.membersTitle')} ({group.members.length})
        </summary>
        <ul>
          {group.members.map((m) => (
            <li key={m}>
              <span>{m}</span>
              {group.admins.includes(m) && <span className="pill">{t('groups.admin')}</span>}
              {admin && m !== me && group.member && (
                <button
                  type="button"
                  className="button button-small"
                  aria-label={t('groups.removeName', { name: m })}
                  onClick={() => void app.groups.remove(m)}
                >
                  {t('groups.remove')}
                </button>
              )}
            </li>
          ))}
        </ul>
        {admin && group.member && (
          <form className="group-add" onSubmit={add}>
            <label htmlFor="group-add">{t('groups.addLabel')}</label>
            <input id="group-add" value={adding} onChange={(e) => setAdding(e.target.value)} />
            <button type="submit" className="button button-small" disabled={adding.trim() === ''}>
              {t('groups.add')}
            </button>
          </form>
        )}
      </details>
      {state.error != null && (
        <p className="banner banner-warn" role="status">
          {t('groups.error', { reason: state.error })}
        </p>
      )}
      {!group.member && (
        <p className="banner banner-info" role="status">
          {t('groups.left')}
        </p>
      )}
      <ol className="messages" ref={listRef} aria-live="polite" aria-relevant="additions">
        {messages.length === 0 && (
          <li className="empty">{t('groups.none', { name: group.name })}</li>
        )}
        {messages.map((m) => (
          <GroupMessage key={m.id} message={m} />
        ))}
      </ol>
      {group.member && (
        <form className="composer" onSubmit={send}>
          <label htmlFor="group-composer" className="sr-only">
            {t('groups.message')}
          </label>
          <textarea
            id="group-composer"
            rows={2}
            maxLength={16_000}
            placeholder={t('groups.placeholder', { name: group.name })}
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKeyDown}
            autoFocus
          />
          <button
            type="submit"
            className="button button-primary"
            disabled={text.trim() === '' || state.sending}
          >
            {t('groups.send')}
          </button>
        </form>
      )}
    </section>
  )
}

function GroupMessage({ message: m }: { message: GroupMessageJson }) {
  const out = m.direction === 'out'
  const failed = m.failed ?? []
  return (
    <li className={`message ${out ? 'message-out' : 'message-in'}`}>
      <p className="message-sender">{out ? t('groups.you') : m.sender}</p>
      <p className="message-text">{m.text}</p>
      <p className="message-meta">
        <time dateTime={m.sentAt}>{formatStamp(m.sentAt)}</time>
        {m.via === 'mailbox' && <span className="message-status">{t('groups.fromMailbox')}</span>}
        {out && <span className="message-status">{outcome(m)}</span>}
        {failed.length > 0 && (
          <span className="message-note">{t('groups.failedTo', { names: failed.join(', ') })}</span>
        )}
      </p>
    </li>
  )
}

/** Who a sent message reached (before the node answers: still sending). */
function outcome(m: GroupMessageJson): string {
  const delivered = (m.delivered ?? []).length
  const stored = (m.stored ?? []).length
  if (delivered + stored + (m.failed ?? []).length === 0) return t('groups.sending')
  return stored === 0
    ? t('groups.delivered', { delivered })
    : t('groups.sentTo', { delivered, stored })
}
