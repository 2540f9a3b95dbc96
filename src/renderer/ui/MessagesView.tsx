/** Conversations: the list with unread counts, and the open conversation. */
import { useEffect } from 'react'
import { peerUser } from '../../shared/sip/overlay-uri.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { ConversationView } from './ConversationView.js'
import { formatStamp } from './format.js'
import { useStore } from './hooks.js'
import type { Navigate } from './navigation.js'

export function MessagesView(props: { nav: Navigate }) {
  const app = useApp()
  const chat = useStore(app.chat.store)
  const files = useStore(app.files.store)
  useEffect(() => {
    void app.chat.refreshConversations()
  }, [app])
  const open = chat.open
  // A conversation opened from the dial bar may have no messages yet: list it anyway.
  const base =
    open != null && !chat.conversations.some((c) => c.peer === open)
      ? [{ peer: open, last: undefined, unread: 0 }, ...chat.conversations]
      : chat.conversations
  // Whoever offers a file is listed too, messages or not, so the offer can be answered.
  const offers = new Set(
    Object.values(files.transfers)
      .filter((tr) => tr.direction === 'in' && tr.status === 'offered')
      .map((tr) => tr.peer),
  )
  const listed = new Set(base.map((c) => peerUser(c.peer)))
  const list = [
    ...[...offers]
      .filter((p) => !listed.has(p))
      .map((peer) => ({ peer, last: undefined, unread: 0 })),
    ...base,
  ]
  return (
    <section className="view view-split" aria-labelledby="messages-title">
      <div className="conversation-list">
        <header className="view-header">
          <h1 id="messages-title">{t('messages.title')}</h1>
        </header>
        {chat.listError != null && (
          <p className="banner banner-error" role="alert">
            {chat.listError}
          </p>
        )}
        {list.length === 0 && chat.listError == null && (
          <p className="empty">{t('messages.empty')}</p>
        )}
        <ul>
          {list.map((c) => {
            const peer = peerUser(c.peer)
            const label =
              c.unread > 0
                ? t('messages.itemUnread', { peer, count: c.unread })
                : offers.has(peer)
                  ? t('files.offeredItem', { peer })
                  : peer
            return (
              <li key={peer}>
                <button
                  type="button"
                  className={`conversation-item ${open === peer ? 'selected' : ''}`}
                  aria-current={open === peer ? 'true' : undefined}
                  aria-label={label}
                  onClick={() => app.chat.open(peer)}
                >
                  <span className="avatar" aria-hidden="true">
                    {peer.slice(0, 1).toUpperCase()}
                  </span>
                  <span className="conversation-text">
                    <span className="conversation-peer">{peer}</span>
                    <span className="conversation-last">
                      {c.last != null
                        ? `${c.last.direction === 'out' ? t('messages.you') : ''}${c.last.text}`
                        : ''}
                    </span>
                  </span>
                  <span className="conversation-meta">
                    {c.last != null && <time>{formatStamp(c.last.date)}</time>}
                    {c.unread > 0 && <span className="badge">{c.unread}</span>}
                  </span>
                </button>
              </li>
            )
          })}
        </ul>
      </div>
      {open != null ? (
        <ConversationView key={open} peer={open} nav={props.nav} />
      ) : (
        <div className="conversation-empty">
          <p>{t('messages.pick')}</p>
        </div>
      )}
    </section>
  )
}
