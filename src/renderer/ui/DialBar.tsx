/**
 * Dial by user ID: the "User ID" box with "Call" (Enter), "Video call" and
 * "Chat" next to it. Always on screen, like a softphone's dial field.
 */
import { useState } from 'react'
import type { FormEvent } from 'react'
import { normalizeUserId } from '../../shared/user-id.js'
import { whenForInput } from '../call/route-warmer.js'
import type { PrepareWhen } from '../call/route-warmer.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'
import type { Navigate } from './navigation.js'

export function DialBar(props: { nav: Navigate }) {
  const app = useApp()
  const calls = useStore(app.calls.store)
  const [peer, setPeer] = useState('')
  const [error, setError] = useState<string | undefined>()
  const inCall = calls.current != null
  const empty = peer.trim() === ''
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (!empty && !inCall) props.nav.call(peer)
  }
  // About to call (typing an ID, back in the box, the pointer on Call): ICE
  // gathering starts now, not at the click (warm-connection.ts), and the ID's
  // overlay route is warmed now or once typing pauses (route-warmer.ts).
  const prepare = (when: PrepareWhen) => (): void => {
    if (!empty && !inCall) app.calls.prepare(peer, when)
  }
  const chat = (): void => {
    try {
      props.nav.chat(normalizeUserId(peer))
      setError(undefined)
    } catch {
      setError(t('dial.invalid', { input: peer.trim() }))
    }
  }
  return (
    <form className="dialbar" onSubmit={submit} aria-label={t('dial.label')}>
      <label className="sr-only" htmlFor="dial-user">
        {t('dial.userId')}
      </label>
      <input
        id="dial-user"
        className="dial-input"
        type="text"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        placeholder={t('dial.placeholder')}
        value={peer}
        aria-invalid={error != null}
        aria-describedby={error != null ? 'dial-error' : undefined}
        onChange={(e) => {
          setPeer(e.target.value)
          setError(undefined)
          // An ID pasted or picked whole warms its route at once, a typed one once typing pauses.
          const input = e.nativeEvent as Partial<InputEvent>
          if (e.target.value.trim() !== '') app.calls.prepare(e.target.value, whenForInput(input))
        }}
        onFocus={prepare('pause')}
      />
      <button
        type="submit"
        className="button button-call"
        disabled={empty || inCall}
        onPointerEnter={prepare('now')}
      >
        {t('dial.call')}
      </button>
      <button
        type="button"
        className="button button-call"
        disabled={empty || inCall}
        onPointerEnter={prepare('now')}
        onClick={() => props.nav.call(peer, { video: true })}
      >
        {t('dial.videoCall')}
      </button>
      <button type="button" className="button" disabled={empty} onClick={chat}>
        {t('dial.chat')}
      </button>
      {error != null && (
        <p id="dial-error" className="dial-error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
