/**
 * The address book: presence, pinned keys, the loud key-changed warning, and
 * adding contacts by user ID, `kaiwa:` link or QR.
 */
import { useEffect, useState } from 'react'
import type { ContactJson } from '../../shared/api/contract.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { AddContactDialog } from './AddContactDialog.js'
import { Dialog } from './Dialog.js'
import { formatAgo } from './format.js'
import { useNow, useStore } from './hooks.js'
import type { Navigate } from './navigation.js'
import { MyCard } from './MyCard.js'

export function ContactsView(props: { nav: Navigate }) {
  const app = useApp()
  const state = useStore(app.contacts.store)
  const [adding, setAdding] = useState(false)
  const [sharing, setSharing] = useState(false)
  useEffect(() => {
    void app.contacts.refresh()
  }, [app])
  return (
    <section className="view" aria-labelledby="contacts-title">
      <header className="view-header">
        <h1 id="contacts-title">{t('contacts.title')}</h1>
        <div className="view-actions">
          <button type="button" className="button" onClick={() => setSharing(true)}>
            {t('contacts.share')}
          </button>
          <button type="button" className="button button-primary" onClick={() => setAdding(true)}>
            {t('contacts.add')}
          </button>
        </div>
      </header>
      {state.error != null && (
        <p className="banner banner-error" role="alert">
          {state.error}
        </p>
      )}
      {state.loaded && state.contacts.length === 0 && state.error == null && (
        <p className="empty">{t('contacts.empty')}</p>
      )}
      <ul className="contact-list">
        {state.contacts.map((c) => (
          <ContactRow key={c.name} contact={c} nav={props.nav} />
        ))}
      </ul>
      {(adding || state.offered != null) && (
        <AddContactDialog
          initial={state.offered}
          onClose={() => {
            setAdding(false)
            app.contacts.clearOffer()
          }}
        />
      )}
      {sharing && (
        <Dialog title={t('contacts.shareTitle')} onClose={() => setSharing(false)}>
          <MyCard />
          <div className="dialog-actions">
            <button type="button" className="button" onClick={() => setSharing(false)}>
              {t('common.close')}
            </button>
          </div>
        </Dialog>
      )}
    </section>
  )
}

function presenceText(c: ContactJson, now: number): string {
  if (c.online) return t('presence.online')
  if (c.lastSeen != null) return t('presence.lastSeen', { ago: formatAgo(c.lastSeen, now) })
  return t('presence.unknown')
}

function ContactRow({ contact: c, nav }: { contact: ContactJson; nav: Navigate }) {
  const app = useApp()
  const now = useNow(30_000)
  const [error, setError] = useState<string | undefined>()
  const [confirmRemove, setConfirmRemove] = useState(false)
  const act = async (run: () => Promise<string | undefined>): Promise<void> => setError(await run())
  return (
    <li className={`contact ${c.keyChanged ? 'contact-warning' : ''}`}>
      <div className="contact-main">
        <div className="avatar" aria-hidden="true">
          {c.name.slice(0, 1).toUpperCase()}
          <span className={`dot dot-${c.online ? 'online' : 'offline'}`} />
        </div>
        <div className="contact-text">
          <span className="contact-name">{c.name}</span>
          <span className="contact-presence">{presenceText(c, now)}</span>
          <span className="fingerprint" title={t('contacts.pinnedKey')}>
            <span className="sr-only">{t('contacts.pinnedKey')}: </span>
            {c.fingerprint}
          </span>
        </div>
        <div className="contact-actions">
          <button
            type="button"
            className="button button-small"
            aria-label={t('contacts.dialName', { name: c.name })}
            onPointerEnter={() => nav.aboutToCall(c.name)}
            onClick={() => nav.call(c.name)}
          >
            {t('contacts.dial')}
          </button>
          <button
            type="button"
            className="button button-small"
            aria-label={t('contacts.messagesWith', { name: c.name })}
            onClick={() => nav.chat(c.name)}
          >
            {t('contacts.messages')}
          </button>
          <button
            type="button"
            className="button button-small button-quiet"
            aria-label={t('contacts.removeName', { name: c.name })}
            onClick={() => setConfirmRemove(true)}
          >
            {t('contacts.remove')}
          </button>
        </div>
      </div>
      {c.keyChanged && (
        <div className="key-warning" role="alert">
          <strong>{t('contacts.keyChangedTitle', { name: c.name })}</strong>
          <p>
            {t('contacts.keyChangedBody', {
              name: c.name,
              pinned: c.fingerprint,
              current: c.currentFingerprint ?? '?',
            })}
          </p>
          <button
            type="button"
            className="button button-danger"
            onClick={() => void act(() => app.contacts.trust(c.name))}
          >
            {t('contacts.trust')}
          </button>
        </div>
      )}
      {error != null && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {confirmRemove && (
        <Dialog
          title={t('contacts.removeTitle', { name: c.name })}
          onClose={() => setConfirmRemove(false)}
        >
          <p>{t('contacts.removeBody', { name: c.name })}</p>
          <div className="dialog-actions">
            <button
              type="button"
              className="button"
              data-autofocus
              onClick={() => setConfirmRemove(false)}
            >
              {t('common.cancel')}
            </button>
            <button
              type="button"
              className="button button-danger"
              onClick={() => {
                setConfirmRemove(false)
                void act(() => app.contacts.remove(c.name))
              }}
            >
              {t('contacts.removeConfirm')}
            </button>
          </div>
        </Dialog>
      )}
    </li>
  )
}
