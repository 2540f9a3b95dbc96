/** Which screen: connecting to the node, first run (claim or restore), or the softphone. */
import { useApp } from './app-context.js'
import { FirstRun } from './FirstRun.js'
import { useStore } from './hooks.js'
import { MainScreen } from './MainScreen.js'
import { t } from '../i18n/t.js'

export function App() {
  const app = useApp()
  const s = useStore(app.session.store)
  if (s.node === 'unauthorized') {
    return <Blocking title={t('start.unauthorizedTitle')} body={t('start.unauthorized')} />
  }
  if (s.phase === 'starting') {
    return (
      <Blocking
        title={t('start.title')}
        body={s.startError != null ? t('start.failed', { reason: s.startError }) : t('start.body')}
        busy
      />
    )
  }
  if (s.phase === 'first-run') return <FirstRun />
  return <MainScreen />
}

/** A whole-window message: the app cannot do anything else yet. */
export function Blocking(props: { title: string; body: string; busy?: boolean }) {
  return (
    <main className="blocking" aria-busy={props.busy ?? false}>
      <div className="blocking-card">
        <div className="brand-mark" aria-hidden="true">
          K
        </div>
        <h1>{props.title}</h1>
        <p role="status">{props.body}</p>
      </div>
    </main>
  )
}
