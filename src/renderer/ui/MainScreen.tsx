/**
 * The softphone: a top bar (own status, the dial bar, theme), banners (node
 * connection, call notices), the call panel, and four tabs: contacts,
 * messages, calls, settings. Tabs follow the WAI-ARIA tabs pattern (arrow keys
 * move between them).
 */
import { useEffect, useRef, useState } from 'react'
import type { KeyboardEvent } from 'react'
import { t } from '../i18n/t.js'
import type { MessageKey } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { CallPanel } from './CallPanel.js'
import { CallsView } from './CallsView.js'
import { ContactsView } from './ContactsView.js'
import { DialBar } from './DialBar.js'
import { useStore } from './hooks.js'
import { IncomingCall } from './IncomingCall.js'
import { MessagesView } from './MessagesView.js'
import { GroupsView } from './GroupsView.js'
import type { Navigate, Tab } from './navigation.js'
import { SettingsView } from './SettingsView.js'
import { StatusBanners } from './StatusBanners.js'

const TABS: Array<{ id: Tab; label: MessageKey }> = [
  { id: 'contacts', label: 'nav.contacts' },
  { id: 'messages', label: 'nav.messages' },
  { id: 'groups', label: 'nav.groups' },
  { id: 'calls', label: 'nav.calls' },
  { id: 'settings', label: 'nav.settings' },
]

export function MainScreen() {
  const app = useApp()
  const [tab, setTab] = useState<Tab>('contacts')
  const tabRefs = useRef(new Map<Tab, HTMLButtonElement>())
  useStore(app.chat.store) // re-render when unread counts change
  const { offered } = useStore(app.contacts.store)
  // Presence and key changes matter on every tab (conversation header, call screens).
  useEffect(() => app.contacts.watch(), [app])
  // A kaiwa: link opened the app: the Contacts tab shows the offer to add it.
  useEffect(() => {
    if (offered != null) setTab('contacts')
  }, [offered])
  const session = useStore(app.session.store)
  const theme = useStore(app.theme.store)
  const unread = app.chat.totalUnread()
  useStore(app.groups.store) // and group unread counts
  const groupUnread = app.groups.totalUnread()
  useEffect(() => void app.groups.refresh(), [app])

  const nav: Navigate = {
    chat(peer) {
      app.chat.open(peer)
      setTab('messages')
    },
    call: (peer, opts) => void app.calls.dial(peer, opts),
    aboutToCall: (peer) => app.calls.prepare(peer, 'now'),
  }

  const onTabKey = (e: KeyboardEvent, i: number): void => {
    const next =
      e.key === 'ArrowDown' || e.key === 'ArrowRight'
        ? (i + 1) % TABS.length
        : e.key === 'ArrowUp' || e.key === 'ArrowLeft'
          ? (i - 1 + TABS.length) % TABS.length
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? TABS.length - 1
              : -1
    if (next < 0) return
    e.preventDefault()
    const id = TABS[next]!.id
    setTab(id)
    tabRefs.current.get(id)?.focus()
  }

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            K
          </span>
          <span className="brand-name">{t('app.name')}</span>
        </div>
        <div className="self" aria-live="polite">
          <span
            className={`dot dot-${session.sip === 'registered' ? 'online' : 'offline'}`}
            aria-hidden="true"
          />
          <span className="self-name">{session.name}</span>
          <span className="self-state">
            {session.sip === 'registered' ? t('self.online') : t('self.connecting')}
          </span>
        </div>
        <DialBar nav={nav} />
        <button
          type="button"
          className="icon-button"
          aria-pressed={theme.effective === 'dark'}
          onClick={() => app.theme.toggle()}
          title={t('theme.toggle')}
        >
          <span aria-hidden="true">{theme.effective === 'dark' ? '☾' : '☀'}</span>
          <span className="sr-only">{t('theme.toggle')}</span>
        </button>
      </header>
      <StatusBanners />
      <CallPanel />
      <IncomingCall />
      <div className="body">
        <nav className="tabs" aria-label={t('nav.label')}>
          <div role="tablist" aria-orientation="vertical">
            {TABS.map((item, i) => (
              <button
                key={item.id}
                ref={(el) => {
                  if (el) tabRefs.current.set(item.id, el)
                }}
                type="button"
                role="tab"
                id={`tab-${item.id}`}
                aria-selected={tab === item.id}
                aria-controls={tab === item.id ? `panel-${item.id}` : undefined}
                tabIndex={tab === item.id ? 0 : -1}
                className="tab"
                onClick={() => setTab(item.id)}
                onKeyDown={(e) => onTabKey(e, i)}
              >
                <span>{t(item.label)}</span>
                {item.id === 'messages' && unread > 0 && (
                  <span className="badge" aria-label={t('nav.unread', { count: unread })}>
                    {unread}
                  </span>
                )}
                {item.id === 'groups' && groupUnread > 0 && (
                  <span className="badge" aria-label={t('nav.unread', { count: groupUnread })}>
                    {groupUnread}
                  </span>
                )}
              </button>
            ))}
          </div>
        </nav>
        <main className="panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
          {tab === 'contacts' && <ContactsView nav={nav} />}
          {tab === 'messages' && <MessagesView nav={nav} />}
          {tab === 'groups' && <GroupsView />}
          {tab === 'calls' && <CallsView nav={nav} />}
          {tab === 'settings' && <SettingsView />}
        </main>
      </div>
    </div>
  )
}
