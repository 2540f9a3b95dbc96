/**
 * The incoming-call screen: a modal that interrupts (alertdialog) with
 * Answer and Decline; Escape declines. Focus lands on the caller's name, not
 * on a button, so a stray Enter from typing does not answer. Before the user
 * answers it shows how the node verified the caller (the INVITE's
 * X-Kaiwa-Identity): verified, first contact with the key fingerprint, or a
 * loud warning when the key is not the one pinned for that name, and where
 * encryption ends when the caller is on a SIP phone behind their node. A
 * video call can be answered with the camera, or with audio only (the
 * caller's video still shows). An invitation into a group call names who is
 * in it (the INVITE's X-Kaiwa-Conference).
 */
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { AnchorNote } from './CallEncryption.js'
import { Dialog } from './Dialog.js'
import { useStore } from './hooks.js'
import { CallerVerification } from './SenderVerification.js'

export function IncomingCall() {
  const app = useApp()
  const { current } = useStore(app.calls.store)
  const { contacts } = useStore(app.contacts.store)
  if (current == null || current.phase !== 'incoming') return null
  // Parsed from the INVITE's X-Kaiwa-Identity (call-session.ts).
  const sender = current.verification
  // The node's verdict on this INVITE wins; the address book's view of the
  // name is the fallback when the call carries none.
  const keyChanged = sender == null && contacts.some((c) => c.name === current.peer && c.keyChanged)
  return (
    <Dialog
      title={t('incoming.title')}
      role="alertdialog"
      className="incoming"
      onClose={() => void app.calls.decline()}
    >
      <div className="incoming-who">
        <div className="avatar avatar-large ringing" aria-hidden="true">
          {current.peer.slice(0, 1).toUpperCase()}
        </div>
        <p className="incoming-text" tabIndex={-1} data-autofocus>
          {t('incoming.body', { peer: current.peer })}
        </p>
        <CallerVerification peer={current.peer} sender={sender} />
        <AnchorNote anchor={current.anchor} peer={current.peer} />
        {current.video.offered && <p className="incoming-video">{t('incoming.withVideo')}</p>}
        {current.groupWith != null && (
          <p className="incoming-video">
            {t('groupCall.invitation', { members: current.groupWith.join(', ') })}
          </p>
        )}
        {keyChanged && (
          <p className="pill pill-danger" role="alert">
            {t('call.keyWarning', { peer: current.peer })}
          </p>
        )}
      </div>
      <div className="dialog-actions">
        <button
          type="button"
          className="button button-hangup"
          onClick={() => void app.calls.decline()}
        >
          {t('incoming.decline')}
        </button>
        <button
          type="button"
          className="button button-call"
          onClick={() => void app.calls.answer()}
        >
          {t('incoming.answer')}
        </button>
        {current.video.offered && (
          <button
            type="button"
            className="button button-call"
            onClick={() => void app.calls.answer({ video: true })}
          >
            {t('incoming.answerVideo')}
          </button>
        )}
      </div>
    </Dialog>
  )
}
