/** Add a contact by user ID or `kaiwa:` link (the fingerprint in a link pins the key at once). */
import { useState } from 'react'
import type { FormEvent } from 'react'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { Dialog } from './Dialog.js'

export function AddContactDialog(props: { onClose: () => void; initial?: string | undefined }) {
  const app = useApp()
  const [input, setInput] = useState(props.initial ?? '')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (input.trim() === '' || busy) return
    setBusy(true)
    setError(undefined)
    const err = await app.contacts.add(input)
    setBusy(false)
    if (err == null) props.onClose()
    else setError(err)
  }
  return (
    <Dialog title={t('addContact.title')} onClose={props.onClose}>
      <form onSubmit={(e) => void submit(e)} className="form">
        <label htmlFor="add-contact" className="field-label">
          {t('addContact.label')}
        </label>
        <input
          id="add-contact"
          type="text"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          placeholder={t('addContact.placeholder')}
          value={input}
          aria-invalid={error != null}
          aria-describedby="add-contact-help"
          onChange={(e) => setInput(e.target.value)}
          data-autofocus
        />
        <p id="add-contact-help" className="field-help">
          {t('addContact.help')}
        </p>
        {error != null && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={props.onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className="button button-primary"
            disabled={busy || input.trim() === ''}
          >
            {busy ? t('addContact.adding') : t('addContact.submit')}
          </button>
        </div>
      </form>
    </Dialog>
  )
}
