/** The DTMF keypad: click the keys or type 0-9, * and # while it has focus. */
import type { KeyboardEvent } from 'react'
import { t } from '../i18n/t.js'

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']
const LETTERS: Record<string, string> = {
  '2': 'ABC', '3': 'DEF', '4': 'GHI', '5': 'JKL', '6': 'MNO', '7': 'PQRS', '8': 'TUV', '9': 'WXYZ',
} // prettier-ignore

export function DtmfPad(props: { sent: string; onKey: (key: string) => void }) {
  const onKeyDown = (e: KeyboardEvent): void => {
    if (KEYS.includes(e.key)) {
      e.preventDefault()
      props.onKey(e.key)
    }
  }
  return (
    <div
      id="dtmf-pad"
      className="dtmf"
      role="group"
      aria-label={t('call.keypad')}
      onKeyDown={onKeyDown}
    >
      <output className="dtmf-sent" aria-live="polite" aria-label={t('call.tonesSent')}>
        {props.sent || ' '}
      </output>
      <div className="dtmf-grid">
        {KEYS.map((k) => (
          <button
            key={k}
            type="button"
            className="dtmf-key"
            aria-label={t('call.tone', { key: k })}
            onClick={() => props.onKey(k)}
          >
            <span className="dtmf-digit">{k}</span>
            <span className="dtmf-letters" aria-hidden="true">
              {LETTERS[k] ?? ''}
            </span>
          </button>
        ))}
      </div>
    </div>
  )
}
