/**
 * How this node sits in the overlay: role, reachability, supernodes, peers, the
 * SIP link; and the ways in and out: join with an invite, invite someone.
 */
import { t } from '../i18n/t.js'
import type { MessageKey } from '../i18n/t.js'
import { useApp } from './app-context.js'
import { formatDuration } from './format.js'
import { useStore } from './hooks.js'
import { InviteCard } from './InviteCard.js'
import { JoinNetwork } from './JoinNetwork.js'

const REACH: Record<string, MessageKey> = {
  public: 'network.public',
  private: 'network.private',
  unknown: 'network.unknown',
}

export function NetworkStatus() {
  const app = useApp()
  const { status, sip } = useStore(app.session.store)
  return (
    <section className="settings-section" aria-labelledby="network-title">
      <h2 id="network-title">{t('network.title')}</h2>
      {status == null ? (
        <p className="field-help">{t('network.noStatus')}</p>
      ) : (
        <>
          <dl className="stats-grid">
            <dt>{t('network.role')}</dt>
            <dd>{status.role === 'supernode' ? t('role.supernode') : t('role.client')}</dd>
            <dt>{t('network.reachability')}</dt>
            <dd>{t(REACH[status.reachability] ?? 'network.unknown')}</dd>
            <dt>{t('network.supernodes')}</dt>
            <dd>{status.supernodes.length}</dd>
            <dt>{t('network.peers')}</dt>
            <dd>{status.peers}</dd>
            <dt>{t('network.records')}</dt>
            <dd>{status.recordsHeld}</dd>
            <dt>{t('network.sip')}</dt>
            <dd>{sip === 'registered' ? t('network.sipRegistered') : t('network.sipOffline')}</dd>
            <dt>{t('network.uptime')}</dt>
            <dd>{formatDuration(status.uptimeSeconds * 1000)}</dd>
          </dl>
          <details>
            <summary>{t('network.details')}</summary>
            <h3>{t('network.supernodeList')}</h3>
            <ul className="mono-list">
              {status.supernodes.length === 0 ? (
                <li>{t('network.none')}</li>
              ) : (
                status.supernodes.map((p) => <li key={p}>{p}</li>)
              )}
            </ul>
            <h3>{t('network.addresses')}</h3>
            <ul className="mono-list">
              {status.addrs.map((a) => (
                <li key={a}>{a}</li>
              ))}
            </ul>
            {status.sip != null && (
              <>
                <h3>{t('network.gateway')}</h3>
                <p className="field-help">
                  {t('network.gatewayHelp', {
                    address: status.sip.address,
                    domain: status.sip.domain,
                    user: status.sip.username ?? '?',
                  })}
                </p>
              </>
            )}
          </details>
          {status.name != null &&
            status.supernodes.length + (status.role === 'supernode' ? 1 : 0) > 0 && <InviteCard />}
          <JoinNetwork
            offerStart={status.role === 'client' && status.supernodes.length === 0}
            open={status.role === 'client' && status.supernodes.length === 0}
          />
        </>
      )}
    </section>
  )
}
