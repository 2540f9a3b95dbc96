/**
 * Add to call: a button that opens a picker of the contacts not yet in the
 * call, and invites the one picked (group-call.ts `add`). Shown in a
 * one-to-one call (which then becomes a group call) and in a group call.
 */
import { useId, useState } from 'react'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'

export function AddToCall({ inCall, disabled }: { inCall: readonly string[]; disabled?: boolean }) {
  const app = useApp()
  const { contacts } = useStore(app.contacts.store)
  const [open, setOpen] = useState(false)
  const [pick, setPick] = useState('')
  const id = useId()
  const choices = contacts.map((c) => c.name).filter((n) => !inCall.includes(n))
  const chosen = choices.includes(pick) ? pick : (choices[0] ?? '')
  if (!open)
    return (
      <button
        type="button"
        className="button"
        disabled={disabled}
        aria-expanded={false}
        onClick={() => setOpen(true)}
      >
        {t('groupCall.add')}
      </button>
    )
  return (
    <form
      className="add-to-call"
      onSubmit={(e) => {
        e.preventDefault()
        if (chosen === '') return
        setOpen(false)
        void app.groupCall.add(chosen)
      }}
    >
      {choices.length === 0 ? (
        <p className="call-note">{t('groupCall.noContacts')}</p>
      ) : (
        <>
          <label htmlFor={id} className="field-label">
            {t('groupCall.pick')}
          </label>
          <select id={id} value={chosen} onChange={(e) => setPick(e.target.value)}>
            {choices.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <button type="submit" className="button button-primary">
            {t('groupCall.invite')}
          </button>
        </>
      )}
      <button type="button" className="button" onClick={() => setOpen(false)}>
        {t('groupCall.cancel')}
      </button>
    </form>
  )
}
