/**
 * Groups (issue 15 §2): the list with unread counts, a form to create a
 * group from user IDs, and the open group's conversation.
 */
import { useEffect, useState } from 'react'
import type { FormEvent } from 'react'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { formatStamp } from './format.js'
import { GroupConversation } from './GroupConversation.js'
import { useStore } from './hooks.js'
import '../styles/groups.css'

export function GroupsView() {
  const app = useApp()
  const groups = useStore(app.groups.store)
  const [creating, setCreating] = useState(false)
  useEffect(() => {
    void app.groups.refresh()
  }, [app])
  const open = groups.groups.find((g) => g.id === groups.open)
  return (
    <section className="view view-split" aria-labelledby="groups-title">
      <div className="conversation-list">
        <header className="view-header">
          <h1 id="groups-title">{t('groups.title')}</h1>
          <button
            type="button"
            className="button button-small"
            aria-expanded={creating}
            onClick={() => setCreating(!creating)}
          >
            {t('groups.new')}
          </button>
        </header>
        {creating && <NewGroupForm onDone={() => setCreating(false)} />}
        {groups.groups.length === 0 && <p className="empty">{t('groups.empty')}</p>}
        <ul>
          {groups.groups.map((g) => {
            const label =
              g.unread > 0 ? t('groups.itemUnread', { name: g.name, count: g.unread }) : g.name
            const selected = g.id === groups.open
            return (
              <li key={g.id}>
                <button
                  type="button"
                  className={`conversation-item ${selected ? 'selected' : ''}`}
                  aria-current={selected ? 'true' : undefined}
                  aria-label={label}
                  onClick={() => app.groups.open(g.id)}
                >
                  <span className="avatar" aria-hidden="true">
                    {g.name.slice(0, 1).toUpperCase()}
                  </span>
                  <span className="conversation-text">
                    <span className="conversation-peer">{g.name}</span>
                    <span className="conversation-last">
                      {t('groups.memberCount', { count: g.members.length })}
                    </span>
                  </span>
                  <span className="conversation-meta">
                    {g.lastMessageAt != null && <time>{formatStamp(g.lastMessageAt)}</time>}
                    {g.unread > 0 && <span className="badge">{g.unread}</span>}
                  </span>
                </button>
              </li>
            )
          })}
        </ul>
      </div>
      {open != null ? (
        <GroupConversation key={open.id} group={open} />
      ) : (
        <div className="conversation-empty">
          <p>{t('groups.pick')}</p>
        </div>
      )}
    </section>
  )
}

function NewGroupForm(props: { onDone: () => void }) {
  const app = useApp()
  const { error } = useStore(app.groups.store)
  const [name, setName] = useState('')
  const [members, setMembers] = useState('')
  const [busy, setBusy] = useState(false)
  const list = members
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '')
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    setBusy(true)
    const id = await app.groups.create(name.trim(), list)
    setBusy(false)
    if (id == null) return
    app.groups.open(id)
    props.onDone()
  }
  return (
    <form className="group-form" onSubmit={(e) => void submit(e)}>
      <label htmlFor="group-name">{t('groups.nameLabel')}</label>
      <input
        id="group-name"
        maxLength={64}
        value={name}
        onChange={(e) => setName(e.target.value)}
        autoFocus
      />
      <label htmlFor="group-members">{t('groups.membersLabel')}</label>
      <input id="group-members" value={members} onChange={(e) => setMembers(e.target.value)} />
      {error != null && (
        <p className="banner banner-error" role="alert">
          {t('groups.error', { reason: error })}
        </p>
      )}
      <div className="form-actions">
        <button
          type="submit"
          className="button button-primary"
          disabled={busy || name.trim() === '' || list.length === 0}
        >
          {t('groups.create')}
        </button>
        <button type="button" className="button" onClick={props.onDone}>
          {t('groups.cancel')}
        </button>
      </div>
    </form>
  )
}
