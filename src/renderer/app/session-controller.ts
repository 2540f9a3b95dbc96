/**
 * The account and the link to the node: which screen the app is on (first
 * run or the main screens), the node's status, and the UI's SIP user agent.
 *
 * The UA is created once the user ID is known and registered with the node;
 * when its pipe drops (node restarted, socket lost) it reconnects and
 * re-registers with capped backoff. Controllers that need it (chat, calls)
 * attach through `onUserAgent` and are detached when it goes away.
 */
import type { ConnectionState, KaiwaBridge } from '../../shared/api/bridge.js'
import type { Status } from '../../shared/api/contract.js'
import { toApiError } from '../bridge/api-error.js'
import { channelFromPipe } from '../sip/bridge-channel.js'
import { createKaiwaUserAgent } from '../sip/kaiwa-ua.js'
import type { KaiwaUserAgent } from '../sip/kaiwa-ua.js'
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'

export type AppPhase = 'starting' | 'first-run' | 'ready'
export type SipState = 'idle' | 'connecting' | 'registered' | 'offline'

export interface SessionState {
  phase: AppPhase
  status: Status | undefined
  name: string | undefined
  node: ConnectionState
  sip: SipState
  /** Why the node could not be asked yet (shown while starting). */
  startError: string | undefined
}

export interface SessionController {
  store: Store<SessionState>
  start(): void
  /** The user claimed or restored a user ID on the first-run screen. */
  claimed(name: string): void
  refreshStatus(): Promise<Status | undefined>
  /** Runs `attach` for every UA made from now on; what it returns runs when that UA goes. */
  onUserAgent(attach: (ua: KaiwaUserAgent) => () => void): void
  stop(): Promise<void>
}

const STATUS_EVERY_MS = 10_000

export function createSessionController(deps: {
  bridge: KaiwaBridge
  log?: (text: string) => void
}): SessionController {
  const bridge = deps.bridge
  const log = deps.log ?? (() => {})
  const store = createStore<SessionState>({
    phase: 'starting',
    status: undefined,
    name: undefined,
    node: bridge.connection,
    sip: 'idle',
    startError: undefined,
  })
  const attachers: Array<(ua: KaiwaUserAgent) => () => void> = []
  let ua: KaiwaUserAgent | undefined
  let detach: Array<() => void> = []
  let retry: ReturnType<typeof setTimeout> | undefined
  let failures = 0
  let stopped = false
  let reconnecting = false
  let statusTimer: ReturnType<typeof setInterval> | undefined
  const cleanups: Array<() => void> = []

  const backoff = (): number => Math.min(30_000, 1000 * 2 ** Math.min(failures++, 5))

  async function refreshStatus(): Promise<Status | undefined> {
    try {
      const status = await bridge.call('status', {})
      store.patch({ status, startError: undefined })
      return status
    } catch (err) {
      store.patch({ startError: toApiError(err).message })
      return undefined
    }
  }

  async function boot(): Promise<void> {
    const status = await refreshStatus()
    if (stopped) return
    if (status == null) {
      retry = setTimeout(() => void boot(), backoff())
      return
    }
    failures = 0
    if (status.name == null) store.patch({ phase: 'first-run' })
    else ready(status.name)
  }

  function ready(name: string): void {
    store.patch({ phase: 'ready', name })
    statusTimer ??= setInterval(() => void refreshStatus(), STATUS_EVERY_MS)
    if (ua == null) void startUa(name)
  }

  function scheduleUa(next: () => Promise<void>): void {
    if (stopped) return
    store.patch({ sip: 'offline' })
    if (retry !== undefined) clearTimeout(retry)
    retry = setTimeout(() => {
      retry = undefined
      void next()
    }, backoff())
  }

  async function register(agent: KaiwaUserAgent): Promise<void> {
    try {
      const r = await agent.register()
      if (r.status >= 200 && r.status < 300) {
        failures = 0
        store.patch({ sip: 'registered' })
        return
      }
      log(`REGISTER answered ${r.status} ${r.reason}`)
    } catch (err) {
      log(`REGISTER failed: ${String(err)}`)
    }
    scheduleUa(() => reconnect(agent))
  }

  async function reconnect(agent: KaiwaUserAgent): Promise<void> {
    if (agent !== ua || stopped || reconnecting) return
    reconnecting = true
    try {
      await reconnectNow(agent)
    } finally {
      reconnecting = false
    }
  }

  async function reconnectNow(agent: KaiwaUserAgent): Promise<void> {
    store.patch({ sip: 'connecting' })
    try {
      await agent.reconnect()
    } catch (err) {
      log(`SIP reconnect failed: ${String(err)}`)
      return scheduleUa(() => reconnect(agent))
    }
    await register(agent)
  }

  async function startUa(name: string): Promise<void> {
    store.patch({ sip: 'connecting' })
    let agent: KaiwaUserAgent
    try {
      agent = await createKaiwaUserAgent({
        channel: channelFromPipe(bridge.sip()),
        user: name,
        log: (level, text) => {
          if (level === 'error' || level === 'warn') log(`sip: ${text}`)
        },
      })
    } catch (err) {
      log(`SIP user agent could not start: ${String(err)}`)
      return scheduleUa(() => startUa(name))
    }
    if (stopped) return void agent.stop()
    ua = agent
    detach = attachers.map((a) => a(agent))
    agent.onConnectionChange((connected) => {
      if (!connected && agent === ua) scheduleUa(() => reconnect(agent))
    })
    await register(agent)
  }

  return {
    store,
    start() {
      cleanups.push(
        bridge.onConnection((node) => {
          store.patch({ node })
          if (node !== 'open' || store.get().phase === 'starting') return
          void refreshStatus()
          // The node is back (e.g. restarted): re-register now, not when the backoff says.
          if (ua != null && store.get().sip !== 'registered') {
            if (retry !== undefined) clearTimeout(retry)
            retry = undefined
            failures = 0
            void reconnect(ua)
          }
        }),
      )
      cleanups.push(
        bridge.onEvent((e) => {
          if (e.event === 'status') store.patch({ status: e.data })
        }),
      )
      void boot()
    },
    claimed(name) {
      void refreshStatus()
      ready(name)
    },
    refreshStatus,
    onUserAgent(attach) {
      attachers.push(attach)
      if (ua != null) detach.push(attach(ua))
    },
    async stop() {
      stopped = true
      if (retry !== undefined) clearTimeout(retry)
      if (statusTimer !== undefined) clearInterval(statusTimer)
      for (const off of cleanups.splice(0)) off()
      for (const off of detach.splice(0)) off()
      await ua?.stop().catch(() => {})
      ua = undefined
    },
  }
}
