/**
 * First run: claim a user ID (with live availability while typing), then
 * offer a backup; or restore an account from a backup file instead. A node on
 * no network yet (supernodes are opt-in) is offered "Join with an invite" and
 * "Start a new network" first: a claim needs a network.
 */
import { useEffect, useRef, useState } from 'react'
import type { FormEvent } from 'react'
import type { Availability, AvailabilityChecker } from '../account/availability.js'
import { claimError } from '../account/claim-error.js'
import { toApiError } from '../bridge/api-error.js'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { BackupForm } from './BackupForm.js'
import { useStore } from './hooks.js'
import { JoinNetwork } from './JoinNetwork.js'

export function FirstRun() {
  const [claimed, setClaimed] = useState<string | undefined>()
  const app = useApp()
  const { status } = useStore(app.session.store)
  const alone = status != null && status.role === 'client' && status.supernodes.length === 0
  return (
    <main className="first-run">
      <div className="first-run-card">
        <div className="brand-mark brand-mark-large" aria-hidden="true">
          K
        </div>
        <h1>{t('firstRun.title')}</h1>
        {claimed == null ? (
          <>
            <p className="lead">{t('firstRun.intro')}</p>
            {alone && <JoinNetwork offerStart open />}
            <ClaimForm onClaimed={setClaimed} />
            <RestoreForm />
          </>
        ) : (
          <section aria-labelledby="backup-title">
            <h2 id="backup-title">{t('firstRun.backupTitle', { name: claimed })}</h2>
            <BackupForm
              name={claimed}
              doneLabel={t('firstRun.continue')}
              onDone={() => app.session.claimed(claimed)}
            />
          </section>
        )}
      </div>
    </main>
  )
}

function availabilityText(a: Availability): { text: string; tone: string } | undefined {
  switch (a.state) {
    case 'idle':
      return undefined
    case 'invalid':
      return { text: t('firstRun.rule'), tone: 'error' }
    case 'checking':
      return { text: t('firstRun.checking', { name: a.name }), tone: 'muted' }
    case 'available':
      return { text: t('firstRun.available', { name: a.name }), tone: 'ok' }
    case 'taken':
      return { text: t('firstRun.taken', { name: a.name }), tone: 'error' }
    case 'yours':
      return { text: t('firstRun.yours', { name: a.name }), tone: 'ok' }
    case 'unknown':
      return { text: t('firstRun.unknown', { reason: a.reason }), tone: 'muted' }
  }
}

function ClaimForm(props: { onClaimed: (name: string) => void }) {
  const app = useApp()
  const [input, setInput] = useState('')
  const [availability, setAvailability] = useState<Availability>({ state: 'idle' })
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const checker = useRef<AvailabilityChecker | undefined>(undefined)
  useEffect(() => {
    const c = app.availability(setAvailability)
    checker.current = c
    return () => c.dispose()
  }, [app])
  const name = 'name' in availability ? availability.name : undefined
  const canClaim =
    name != null &&
    (availability.state === 'available' ||
      availability.state === 'unknown' ||
      availability.state === 'yours')
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (!canClaim || busy || name == null) return
    setBusy(true)
    setError(undefined)
    try {
      const { record } = await app.bridge.call('claim', { name })
      props.onClaimed(record.name)
    } catch (err) {
      setError(claimError(err, name))
    } finally {
      setBusy(false)
    }
  }
  const hint = availabilityText(availability)
  return (
    <section aria-labelledby="claim-title" className="first-run-section">
      <h2 id="claim-title">{t('firstRun.claimTitle')}</h2>
      <form className="form" onSubmit={(e) => void submit(e)}>
        <label className="field-label" htmlFor="claim-name">
          {t('firstRun.nameLabel')}
        </label>
        <input
          id="claim-name"
          type="text"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          maxLength={32}
          value={input}
          aria-describedby="claim-hint"
          aria-invalid={availability.state === 'invalid' || availability.state === 'taken'}
          onChange={(e) => {
            setInput(e.target.value)
            checker.current?.check(e.target.value)
          }}
          autoFocus
        />
        <p
          id="claim-hint"
          className={`field-hint hint-${hint?.tone ?? 'muted'}`}
          aria-live="polite"
        >
          {hint?.text ?? t('firstRun.rule')}
        </p>
        {error != null && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button button-primary" disabled={!canClaim || busy}>
          {busy ? t('firstRun.claiming') : t('firstRun.claim')}
        </button>
      </form>
    </section>
  )
}

function RestoreForm() {
  const app = useApp()
  const [file, setFile] = useState<File | undefined>()
  const [pass, setPass] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>()
  const [needsName, setNeedsName] = useState(false)
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (file == null || busy) return
    setBusy(true)
    setError(undefined)
    try {
      const backup = (await file.text()).trim()
      const restored = await app.bridge.call('identityImport', { backup, passphrase: pass })
      if (restored.name != null) app.session.claimed(restored.name)
      else setNeedsName(true)
    } catch (err) {
      const e2 = toApiError(err)
      setError(
        e2.code === 'conflict'
          ? t('restore.conflict')
          : e2.code === 'invalid_input'
            ? t('restore.badFile')
            : t('restore.failed', { reason: e2.message }),
      )
    } finally {
      setBusy(false)
    }
  }
  return (
    <details className="first-run-section restore">
      <summary>{t('restore.title')}</summary>
      <form className="form" onSubmit={(e) => void submit(e)}>
        <label className="field-label" htmlFor="restore-file">
          {t('restore.file')}
        </label>
        <input
          id="restore-file"
          type="file"
          accept=".kaiwa-backup,text/plain"
          onChange={(e) => setFile(e.target.files?.[0])}
        />
        <label className="field-label" htmlFor="restore-pass">
          {t('backup.passphrase')}
        </label>
        <input
          id="restore-pass"
          type="password"
          autoComplete="current-password"
          value={pass}
          onChange={(e) => setPass(e.target.value)}
        />
        {error != null && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        {needsName && (
          <p className="field-ok" role="status">
            {t('restore.needsName')}
          </p>
        )}
        <button type="submit" className="button" disabled={file == null || busy}>
          {busy ? t('restore.working') : t('restore.submit')}
        </button>
      </form>
    </details>
  )
}
