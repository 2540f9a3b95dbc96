/**
 * One conversation: history oldest first, each sent message with its status
 * (sending, delivered, stored for later, failed and why), file transfers in
 * among them (FileTransferItem.tsx), and the composer: Enter sends,
 * Shift+Enter starts a new line; Send file, a drop or a paste sends files.
 */
import { useEffect, useRef, useState } from 'react'
import type { FormEvent, KeyboardEvent, ReactNode } from 'react'
import { useFileDrop } from './file-drop.js'
import { FileTransferItem, UploadItem } from './FileTransferItem.js'
import { peerUser } from '../../shared/sip/overlay-uri.js'
import { mergeThread } from '../chat/thread-merge.js'
import type { ShownMessage } from '../chat/thread-merge.js'
import { t } from '../i18n/t.js'
import type { MessageKey } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { formatStamp } from './format.js'
import { useStore } from './hooks.js'
import type { Navigate } from './navigation.js'
import { MessageVerification } from './SenderVerification.js'

const STATUS: Record<string, MessageKey> = {
  sending: 'status.sending',
  delivered: 'status.delivered',
  stored: 'status.stored',
  failed: 'status.failed',
}

export function ConversationView(props: { peer: string; nav: Navigate }) {
  const app = useApp()
  const chat = useStore(app.chat.store)
  const contacts = useStore(app.contacts.store)
  const [text, setText] = useState('')
  const listRef = useRef<HTMLOListElement>(null)
  const thread = chat.threads[props.peer]
  const shown = thread != null ? mergeThread(thread.messages, thread.local) : []
  const contact = contacts.contacts.find((c) => c.name === props.peer)
  const files = useStore(app.files.store)
  const drop = useFileDrop((list) => void app.files.send(props.peer, list))
  const pickRef = useRef<HTMLInputElement>(null)
  const rows: Array<{ at: string; node: ReactNode }> = [
    ...shown.map((m) => ({
      at: m.message.date,
      node: <MessageItem key={m.kind === 'node' ? m.message.id : m.message.localId} item={m} />,
    })),
    ...Object.values(files.transfers)
      .filter((tr) => tr.peer === props.peer)
      .map((tr) => ({
        at: tr.createdAt,
        node: <FileTransferItem key={tr.id} tr={tr} preview={files.previews[tr.id]} />,
      })),
  ].sort((a, b) => a.at.localeCompare(b.at))
  const uploads = files.uploads.filter((u) => u.peer === props.peer)
  const fileError = files.errors[props.peer]

  useEffect(() => {
    const el = listRef.current
    if (el) el.scrollTop = el.scrollHeight
  }, [rows.length, uploads.length])

  const send = (e?: FormEvent): void => {
    e?.preventDefault()
    const body = text.trim()
    if (body === '') return
    setText('')
    void app.chat.send(props.peer, body)
  }
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault()
      send()
    }
  }

  return (
    <section
      className={`conversation${drop.dragging ? ' dragging' : ''}`}
      aria-label={t('messages.with', { peer: props.peer })}
      {...drop.handlers}
    >
      <header className="conversation-header">
        <span className="avatar" aria-hidden="true">
          {props.peer.slice(0, 1).toUpperCase()}
          {contact != null && (
            <span className={`dot dot-${contact.online ? 'online' : 'offline'}`} />
          )}
        </span>
        <h2>{props.peer}</h2>
        {contact?.keyChanged && (
          <span className="pill pill-danger">{t('messages.keyChanged')}</span>
        )}
        <button
          type="button"
          className="button button-small"
          aria-label={t('contacts.dialName', { name: props.peer })}
          onPointerEnter={() => props.nav.aboutToCall(props.peer)}
          onClick={() => props.nav.call(props.peer)}
        >
          {t('contacts.dial')}
        </button>
      </header>
      {thread?.error != null && (
        <p className="banner banner-warn" role="status">
          {thread.error}
        </p>
      )}
      {fileError != null && (
        <p className="banner banner-warn" role="alert">
          {fileError}
        </p>
      )}
      {drop.dragging && (
        <p className="drop-hint" role="status">
          {t('files.dropHere', { peer: props.peer })}
        </p>
      )}
      <ol className="messages" ref={listRef} aria-live="polite" aria-relevant="additions">
        {thread?.loaded && rows.length === 0 && (
          <li className="empty">{t('messages.none', { peer: props.peer })}</li>
        )}
        {rows.map((r) => r.node)}
        {uploads.map((u) => (
          <UploadItem key={u.key} upload={u} />
        ))}
      </ol>
      <form className="composer" onSubmit={send}>
        <label htmlFor="composer-text" className="sr-only">
          {t('messages.message')}
        </label>
        <textarea
          id="composer-text"
          rows={2}
          maxLength={16_000}
          placeholder={t('messages.placeholder', { peer: props.peer })}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={drop.onPaste}
          autoFocus
        />
        <input
          ref={pickRef}
          type="file"
          multiple
          className="file-input"
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            const list = Array.from(e.target.files ?? [], (f) => ({ blob: f, name: f.name }))
            e.target.value = ''
            if (list.length > 0) void app.files.send(props.peer, list)
          }}
        />
        <button type="button" className="button" onClick={() => pickRef.current?.click()}>
          {t('files.sendFile')}
        </button>
        <button type="submit" className="button button-primary" disabled={text.trim() === ''}>
          {t('messages.send')}
        </button>
      </form>
    </section>
  )
}

/** What to say under a stored or failed message from the node's history. */
function nodeNote(status: string, peer: string, code: number): string | undefined {
  if (status === 'stored') return t('chat.stored', { peer })
  if (status === 'failed') return t('chat.failedNode', { status: code })
  return undefined
}

function MessageItem({ item }: { item: ShownMessage }) {
  const out = item.kind === 'local' || item.message.direction === 'out'
  const status = item.message.status
  const note =
    item.kind === 'local'
      ? item.message.note
      : out
        ? nodeNote(status, peerUser(item.message.peer), item.message.code)
        : undefined
  const key = STATUS[status]
  // Received messages carry how the node verified their sender; anything not
  // from the pinned key is marked (a changed key loudly).
  const verification = item.kind === 'node' && !out ? item.message.verification : undefined
  const identityClass =
    verification === 'mismatch'
      ? ' message-mismatch'
      : verification === 'new'
        ? ' message-unverified'
        : ''
  return (
    <li
      className={`message ${out ? 'message-out' : 'message-in'} message-${status}${identityClass}`}
    >
      <p className="message-text">{item.message.text}</p>
      {item.kind === 'node' && !out && (
        <MessageVerification
          verification={item.message.verification}
          fingerprint={item.message.fingerprint}
        />
      )}
      <p className="message-meta">
        <time dateTime={item.message.date}>{formatStamp(item.message.date)}</time>
        {out && key != null && <span className="message-status">{t(key)}</span>}
      </p>
      {note != null && (
        <p
          className={`message-note ${status === 'failed' ? 'note-error' : ''}`}
          role={status === 'failed' ? 'alert' : undefined}
        >
          {note}
        </p>
      )}
    </li>
  )
}
