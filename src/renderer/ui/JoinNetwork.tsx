/**
 * "Join with an invite" (first run and Settings → Network): paste a `kaiwa:`
 * invite link; the node verifies it, saves its supernodes and pins the
 * inviting user (`joinInvite`). With `offerStart`, also "Start a new
 * network": founding one is the user's explicit act (supernode mode `on`).
 */
import { useState } from 'react'
import type { FormEvent } from 'react'
import { toApiError } from '../bridge/api-error.js'
import { checkInviteInput } from '../contacts/invite-input.js'
import type { InviteInput } from '../contacts/invite-input.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'

function inputError(check: Extract<InviteInput, { ok: false }>): string {
  switch (check.error) {
    case 'empty':
      return t('join.empty')
    case 'not_invite':
      return t('join.notInvite')
    case 'malformed':
    case 'supernodes':
      return t('join.malformed')
    case 'expired':
      return t('join.expired')
    default:
      return t('join.tampered', { reason: check.error })
  }
}

export function JoinNetwork(props: { offerStart?: boolean; open?: boolean }) {
  const app = useApp()
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const [done, setDone] = useState<string | undefined>()
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const check = checkInviteInput(text)
    if (!check.ok) return setError(inputError(check))
    setBusy(true)
    setError(undefined)
    setDone(undefined)
    try {
      const joined = await app.bridge.call('joinInvite', { link: check.link })
      setDone(t('join.done', { name: joined.name, connected: joined.connected }))
      setText('')
    } catch (err) {
      const e2 = toApiError(err)
      setError(e2.code === 'invalid_input' ? e2.message : t('join.failed', { reason: e2.message }))
    } finally {
      setBusy(false)
    }
  }
  const start = async (): Promise<void> => {
    setError(undefined)
    try {
      await app.bridge.call('settingsUpdate', { supernodeMode: 'on' })
      setDone(t('join.started'))
    } catch (err) {
      setError(t('join.failed', { reason: toApiError(err).message }))
    }
  }
  return (
    <details className="first-run-section join" open={props.open}>
      <summary>{t('join.title')}</summary>
      <form className="form" onSubmit={(e) => void submit(e)}>
        <p className="field-help">{t('join.help')}</p>
        <label className="field-label" htmlFor="join-link">
          {t('join.label')}
        </label>
        <textarea
          id="join-link"
          rows={3}
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        {error != null && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        {done != null && (
          <p className="field-ok" role="status">
            {done}
          </p>
        )}
        <button type="submit" className="button" disabled={busy}>
          {busy ? t('join.working') : t('join.submit')}
        </button>
      </form>
      {props.offerStart === true && (
        <div className="form">
          <h3>{t('join.startTitle')}</h3>
          <p className="field-help">{t('join.startHelp')}</p>
          <button type="button" className="button" onClick={() => void start()}>
            {t('join.start')}
          </button>
        </div>
      )}
    </details>
  )
}
