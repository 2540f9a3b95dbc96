/**
 * KaiwaBridge over Electron's preload (`window.kaiwa: PreloadApi`). The
 * preload hands out plain functions (contextBridge cannot pass class
 * instances), so this wraps them: replies and events are validated against
 * the contract exactly as on the web, and errors get their codes back.
 *
 * Besides the contract's events, the Electron shell sends its own
 * (HOST_EVENT): `link`, a `kaiwa:` link the app was opened with, held until
 * someone listens (the link that launched the app arrives before the screens
 * exist); and `connection`, its node going away or coming back. The IPC link
 * to the main process itself never drops while the page lives, so
 * `connection` starts `open`.
 *
 * A call in flight when the node goes fails in the main process with
 * `unreachable` (its HTTP request to the node broke); that is the web
 * bridge's `disconnected`, and is reported as such: nobody can tell whether
 * the node ran it.
 */
import { z } from 'zod'
import type { ZodType } from 'zod'
import { HOST_EVENT } from '../../shared/api/bridge.js'
import type {
  ConnectionState,
  KaiwaBridge,
  OpenedLink,
  PreloadApi,
  SipPipe,
} from '../../shared/api/bridge.js'
import { apiContract, apiEvents } from '../../shared/api/contract.js'
import type { ApiEvent, ApiInput, ApiMethod, ApiOutput } from '../../shared/api/contract.js'
import { ApiError, toApiError } from './api-error.js'
import { createPreloadFiles } from './preload-files.js'

const LinkSchema: ZodType<OpenedLink> = z.object({
  name: z.string().min(1).max(64),
  fingerprint: z.string().max(128).optional(),
  invite: z.string().max(4096).optional(),
})
// `unauthorized` is the web token's; the shell has no token to refuse.
const ConnectionSchema = z.enum(['connecting', 'open', 'closed'])

/** Links waiting for a listener; a launcher firing many at once keeps only the first few. */
const MAX_HELD_LINKS = 8

/** Calls every listener; one that throws (a broken screen) must not starve the others. */
function emit<T>(listeners: Set<(value: T) => void>, value: T): void {
  for (const l of [...listeners]) {
    try {
      l(value)
    } catch (err) {
      console.error('kaiwa: bridge listener failed', err)
    }
  }
}

export function createPreloadBridge(api: PreloadApi): KaiwaBridge {
  const eventListeners = new Set<(event: ApiEvent) => void>()
  const linkListeners = new Set<(link: OpenedLink) => void>()
  const connectionListeners = new Set<(state: ConnectionState) => void>()
  const heldLinks: OpenedLink[] = []
  let connection: ConnectionState = 'open'
  // One subscription for everything: the preload replays events it held to its first listener only.
  api.onEvent((event, data) => {
    if (event === HOST_EVENT.connection) {
      const state = ConnectionSchema.safeParse(data)
      if (!state.success || state.data === connection) return
      connection = state.data
      emit(connectionListeners, state.data)
      return
    }
    if (event === HOST_EVENT.link) {
      const link = LinkSchema.safeParse(data)
      if (!link.success) return
      if (linkListeners.size === 0) {
        if (heldLinks.length < MAX_HELD_LINKS) heldLinks.push(link.data)
      } else emit(linkListeners, link.data)
      return
    }
    if (!Object.hasOwn(apiEvents, event)) return
    const name = event as keyof typeof apiEvents
    const parsed = (apiEvents[name] as ZodType).safeParse(data)
    if (!parsed.success) return
    emit(eventListeners, { event: name, data: parsed.data } as ApiEvent)
  })

  return {
    kind: 'electron',
    get connection() {
      return connection
    },
    async call<M extends ApiMethod>(method: M, input: ApiInput<M>): Promise<ApiOutput<M>> {
      let result: unknown
      try {
        result = await api.call(method, input)
      } catch (err) {
        const e = toApiError(err)
        if (e.code === 'unreachable') throw new ApiError('disconnected', e.message)
        throw e
      }
      const out = (apiContract[method].output as ZodType).safeParse(result)
      if (!out.success) {
        throw new ApiError(
          'invalid_reply',
          `The node sent an unexpected answer to "${method}". Update Kaiwa and the node to the same version.`,
        )
      }
      return out.data as ApiOutput<M>
    },
    onEvent(listener) {
      eventListeners.add(listener)
      return () => eventListeners.delete(listener)
    },
    onConnection(listener) {
      connectionListeners.add(listener)
      return () => connectionListeners.delete(listener)
    },
    onLink(listener) {
      linkListeners.add(listener)
      for (const link of heldLinks.splice(0)) listener(link)
      return () => linkListeners.delete(listener)
    },
    sip: () => preloadPipe(api),
    files: createPreloadFiles(api),
  }
}

/** One IPC SIP pipe; `open()` again replaces the previous one on the main side. */
function preloadPipe(api: PreloadApi): SipPipe {
  const messageListeners = new Set<(raw: string) => void>()
  const closeListeners = new Set<(error: Error) => void>()
  let id: number | undefined
  let unsubscribe: Array<() => void> = []

  const detach = (): void => {
    for (const off of unsubscribe.splice(0)) off()
    id = undefined
  }

  return {
    async open() {
      if (id !== undefined) {
        api.sipClose(id)
        detach()
      }
      const pipe = await api.sipOpen()
      id = pipe
      unsubscribe = [
        api.onSip(pipe, (raw) => {
          emit(messageListeners, raw)
        }),
        api.onSipClose(pipe, (reason) => {
          if (id !== pipe) return
          detach()
          emit(closeListeners, new Error(`the SIP pipe closed (${reason})`))
        }),
      ]
    },
    send(raw) {
      if (id === undefined) throw new Error('the SIP pipe is not open')
      api.sipSend(id, raw)
    },
    onMessage(cb) {
      messageListeners.add(cb)
      return () => messageListeners.delete(cb)
    },
    onClose(cb) {
      closeListeners.add(cb)
      return () => closeListeners.delete(cb)
    },
    close() {
      if (id === undefined) return
      api.sipClose(id)
      detach()
    },
    get isOpen() {
      return id !== undefined
    },
  }
}
