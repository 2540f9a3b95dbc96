/** Banners that explain what does not work right now, and what happens next. */
import { t } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { useStore } from './hooks.js'

export function StatusBanners() {
  const app = useApp()
  const session = useStore(app.session.store)
  const calls = useStore(app.calls.store)
  return (
    <div className="banners">
      {session.node !== 'open' ? (
        <p className="banner banner-error" role="alert">
          {t('banner.nodeLost')}
        </p>
      ) : session.sip === 'offline' ? (
        <p className="banner banner-warn" role="status">
          {t('banner.sipOffline')}
        </p>
      ) : null}
      {session.status != null &&
        session.status.supernodes.length === 0 &&
        session.status.role === 'client' &&
        (session.status.network === 'lan-only' ? (
          <p className="banner banner-info" role="status">
            {t('banner.lanOnly', { n: session.status.lanPeers ?? 0 })}
          </p>
        ) : (
          <p className="banner banner-warn" role="status">
            {t('banner.noSupernode')}
          </p>
        ))}
      {session.status?.clock?.state === 'warn' && (
        <p className="banner banner-warn" role="alert">
          {session.status.clock.message}
        </p>
      )}
      {calls.notice != null && (
        <div
          className={`banner banner-${calls.notice.tone === 'error' ? 'error' : 'info'}`}
          role="alert"
        >
          <span>{calls.notice.text}</span>
          <button type="button" className="link-button" onClick={() => app.calls.dismissNotice()}>
            {t('common.dismiss')}
          </button>
        </div>
      )}
    </div>
  )
}
