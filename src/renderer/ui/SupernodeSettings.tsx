/**
 * Supernode mode (off, auto, on), what this node spends for others right
 * now, and the caps that bound it. Caps of 0 mean "no service of that kind".
 */
import { useEffect, useState } from 'react'
import type { FormEvent } from 'react'
import type { SupernodeCaps, SupernodeMode } from '../../shared/api/contract.js'
import { t } from '../i18n/t.js'
import type { MessageKey } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { formatBytes } from './format.js'
import { useStore } from './hooks.js'

const MODES: Array<{ id: SupernodeMode; label: MessageKey; help: MessageKey }> = [
  { id: 'off', label: 'supernode.off', help: 'supernode.offHelp' },
  { id: 'auto', label: 'supernode.auto', help: 'supernode.autoHelp' },
  { id: 'on', label: 'supernode.on', help: 'supernode.onHelp' },
]

const CAPS: Array<{ id: keyof SupernodeCaps; label: MessageKey }> = [
  { id: 'relayKbps', label: 'supernode.capRelay' },
  { id: 'relayedCalls', label: 'supernode.capCalls' },
  { id: 'storageMiB', label: 'supernode.capStorage' },
]

export function SupernodeSettings() {
  const app = useApp()
  const s = useStore(app.settings.store)
  const [caps, setCaps] = useState<Record<keyof SupernodeCaps, string> | undefined>()
  useEffect(() => app.settings.watchUsage(), [app])
  useEffect(() => {
    if (s.settings != null && caps == null) {
      const c = s.settings.caps
      setCaps({
        relayKbps: String(c.relayKbps),
        relayedCalls: String(c.relayedCalls),
        storageMiB: String(c.storageMiB),
      })
    }
  }, [s.settings, caps])
  const u = s.usage
  const saveCaps = (e: FormEvent): void => {
    e.preventDefault()
    if (caps == null) return
    const parsed: Partial<SupernodeCaps> = {}
    for (const { id } of CAPS) {
      const n = Number(caps[id])
      if (Number.isInteger(n) && n >= 0) parsed[id] = n
    }
    void app.settings.setCaps(parsed)
  }
  return (
    <section className="settings-section" aria-labelledby="supernode-title">
      <h2 id="supernode-title">{t('supernode.title')}</h2>
      <p className="field-help">{t('supernode.intro')}</p>
      <fieldset className="radio-stack" disabled={s.settings == null || s.saving}>
        <legend className="field-label">{t('supernode.mode')}</legend>
        {MODES.map((m) => (
          <label key={m.id} className="radio">
            <input
              type="radio"
              name="supernode-mode"
              value={m.id}
              checked={s.settings?.supernodeMode === m.id}
              onChange={() => void app.settings.setMode(m.id)}
            />
            <span>
              <strong>{t(m.label)}</strong>
              <span className="radio-help">{t(m.help)}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {s.error != null && (
        <p className="field-error" role="alert">
          {t('settings.saveFailed', { reason: s.error })}
        </p>
      )}
      <h3>{t('supernode.usage')}</h3>
      {u == null ? (
        <p className="field-help">{t('supernode.noUsage')}</p>
      ) : (
        <dl className="stats-grid" aria-live="off">
          <dt>{t('supernode.role')}</dt>
          <dd>{u.role === 'supernode' ? t('role.supernode') : t('role.client')}</dd>
          <dt>{t('supernode.bytesRelayed')}</dt>
          <dd>{formatBytes(u.bytesRelayed)}</dd>
          <dt>{t('supernode.relayRate')}</dt>
          <dd>{t('unit.kbps', { n: Math.round(u.relayKbps) })}</dd>
          <dt>{t('supernode.relayedCalls')}</dt>
          <dd>{u.relayedCalls}</dd>
          <dt>{t('supernode.peersServed')}</dt>
          <dd>{u.peersServed}</dd>
          <dt>{t('supernode.recordsStored')}</dt>
          <dd>{u.recordsStored}</dd>
          <dt>{t('supernode.mailbox')}</dt>
          <dd>
            {t('supernode.mailboxValue', {
              count: u.mailboxMessages,
              size: formatBytes(u.mailboxBytes),
            })}
          </dd>
        </dl>
      )}
      <h3>{t('supernode.caps')}</h3>
      <form className="caps-form" onSubmit={saveCaps}>
        {CAPS.map((c) => (
          <div className="field" key={c.id}>
            <label htmlFor={`cap-${c.id}`} className="field-label">
              {t(c.label)}
            </label>
            <input
              id={`cap-${c.id}`}
              type="number"
              inputMode="numeric"
              min={0}
              step={1}
              value={caps?.[c.id] ?? ''}
              disabled={caps == null}
              onChange={(e) =>
                setCaps((prev) => (prev ? { ...prev, [c.id]: e.target.value } : prev))
              }
            />
          </div>
        ))}
        <p className="field-help">{t('supernode.capsHelp')}</p>
        <button type="submit" className="button" disabled={caps == null || s.saving}>
          {t('supernode.saveCaps')}
        </button>
      </form>
    </section>
  )
}
