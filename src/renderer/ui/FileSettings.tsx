/**
 * Files in Settings (issue 15 §1): how large a file from a pinned contact is
 * accepted without asking, the largest file sent or received, and the
 * downloads folder. The folder is a path on the node's machine (in a browser
 * the page cannot know it); the node checks that it can write there.
 */
import { useEffect, useState } from 'react'
import type { FormEvent } from 'react'
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'

interface Draft {
  autoAcceptMiB: string
  maxMiB: string
  receiveDir: string
}

export function FileSettings() {
  const app = useApp()
  const s = useStore(app.settings.store)
  const [draft, setDraft] = useState<Draft>()
  const [saved, setSaved] = useState(false)
  const [failed, setFailed] = useState<string>()
  const files = s.settings?.files
  useEffect(() => {
    if (files != null && draft == null)
      setDraft({
        autoAcceptMiB: String(files.autoAcceptMiB),
        maxMiB: String(files.maxMiB),
        receiveDir: files.receiveDir,
      })
  }, [files, draft])
  if (files == null) return null

  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (draft == null) return
    setSaved(false)
    const auto = Number(draft.autoAcceptMiB)
    const max = Number(draft.maxMiB)
    const why = await app.settings.setFiles({
      ...(Number.isInteger(auto) && auto >= 0 ? { autoAcceptMiB: auto } : {}),
      ...(Number.isInteger(max) && max > 0 ? { maxMiB: max } : {}),
      ...(draft.receiveDir.trim() !== '' ? { receiveDir: draft.receiveDir.trim() } : {}),
    })
    setSaved(why == null)
    setFailed(why)
    if (why == null) setDraft(undefined) // show what the node kept
  }
  const field = (id: keyof Draft, label: string, numeric: boolean) => (
    <div className="field">
      <label htmlFor={`files-${id}`} className="field-label">
        {label}
      </label>
      <input
        id={`files-${id}`}
        type={numeric ? 'number' : 'text'}
        {...(numeric ? { inputMode: 'numeric' as const, min: 0, step: 1 } : { spellCheck: false })}
        value={draft?.[id] ?? ''}
        disabled={draft == null}
        onChange={(e) => {
          setSaved(false)
          setDraft((prev) => (prev ? { ...prev, [id]: e.target.value } : prev))
        }}
      />
    </div>
  )
  return (
    <section className="settings-section" aria-labelledby="files-title">
      <h2 id="files-title">{t('files.settingsTitle')}</h2>
      <p className="field-help">{t('files.settingsHelp')}</p>
      <form className="caps-form" onSubmit={(e) => void save(e)}>
        {field('autoAcceptMiB', t('files.autoAccept'), true)}
        {field('maxMiB', t('files.maxSize'), true)}
        {field('receiveDir', t('files.receiveDir'), false)}
        <button type="submit" className="button" disabled={draft == null || s.saving}>
          {t('files.saveSettings')}
        </button>
        {failed != null && (
          <p className="field-error" role="alert">
            {t('settings.saveFailed', { reason: failed })}
          </p>
        )}
        {saved && (
          <span className="field-help" role="status">
            {t('files.saved')}
          </span>
        )}
      </form>
    </section>
  )
}
