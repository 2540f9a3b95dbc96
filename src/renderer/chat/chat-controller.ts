/**
 * Chat: the conversation list with unread counts, one thread per peer, and
 * sending. Live delivery goes through the UI's SIP user agent (MESSAGE: 200
 * delivered, 202 stored on a supernode for an offline peer); without a
 * registered UA the node sends for us (`message`). History, unread counts and
 * read marks come from the node (`conversations`, `conversation`, `markRead`);
 * new messages arrive through the UA and the node's `message` event.
 */
import type { KaiwaBridge } from '../../shared/api/bridge.js'
import type { ConversationJson, StoredMessageJson } from '../../shared/api/contract.js'
import { normalizeUserId } from '../../shared/user-id.js'
import { toApiError } from '../bridge/api-error.js'
import type { Platform } from '../base/platform.js'
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'
import { t } from '../i18n/t.js'
import type { KaiwaUserAgent } from '../sip/kaiwa-ua.js'
import { outcomeOfApiError, outcomeOfStatus } from './send-outcome.js'
import type { SendOutcome } from './send-outcome.js'
import { peerUser } from '../../shared/sip/overlay-uri.js'
import { upsertMessage } from './thread-merge.js'
import type { LocalMessage } from './thread-merge.js'

export interface Thread {
  messages: StoredMessageJson[]
  local: LocalMessage[]
  loaded: boolean
  error: string | undefined
}

export interface ChatState {
  conversations: ConversationJson[]
  threads: Record<string, Thread>
  /** The conversation on screen. */
  open: string | undefined
  listError: string | undefined
}

export interface ChatController {
  store: Store<ChatState>
  attach(ua: KaiwaUserAgent): () => void
  refreshConversations(): Promise<void>
  /** Show a conversation (loads it and marks it read). */
  open(peer: string): void
  close(): void
  send(peer: string, text: string): Promise<void>
  /** The window came back to the foreground: the open conversation counts as read. */
  seen(): void
  /** A node `message` event. */
  onNodeMessage(m: StoredMessageJson): void
  /** The node is back after a disconnection: events may have been missed, reload. */
  resync(): void
  totalUnread(): number
}

const emptyThread = (): Thread => ({ messages: [], local: [], loaded: false, error: undefined })

export function createChatController(deps: {
  bridge: KaiwaBridge
  platform: Platform
  log?: (text: string) => void
}): ChatController {
  const { bridge, platform } = deps
  const log = deps.log ?? (() => {})
  const store = createStore<ChatState>({
    conversations: [],
    threads: {},
    open: undefined,
    listError: undefined,
  })
  let ua: KaiwaUserAgent | undefined
  let seq = 0
  const reloads = new Map<string, ReturnType<typeof setTimeout>>()
  let listReload: ReturnType<typeof setTimeout> | undefined

  const thread = (peer: string): Thread => store.get().threads[peer] ?? emptyThread()
  const setThread = (peer: string, f: (t: Thread) => Thread): void =>
    store.set((s) => ({
      ...s,
      threads: { ...s.threads, [peer]: f(s.threads[peer] ?? emptyThread()) },
    }))

  async function refreshConversations(): Promise<void> {
    try {
      const { conversations } = await bridge.call('conversations', {})
      store.patch({ conversations, listError: undefined })
    } catch (err) {
      const e = toApiError(err)
      // The node-lost banner already says so, and the list reloads on reconnect.
      if (e.code === 'disconnected') return
      store.patch({ listError: t('chat.listUnavailable', { reason: e.message }) })
    }
  }

  async function loadThread(peer: string): Promise<void> {
    try {
      const { messages } = await bridge.call('conversation', { peer, limit: 500 })
      setThread(peer, (th) => ({ ...th, messages, loaded: true, error: undefined }))
    } catch (err) {
      const e = toApiError(err)
      // The node-lost banner already says so; the thread reloads on reconnect (resync).
      if (e.code === 'disconnected') return
      setThread(peer, (th) => ({
        ...th,
        loaded: true,
        error: t('chat.historyUnavailable', { reason: e.message }),
      }))
    }
  }

  async function markRead(peer: string): Promise<void> {
    const convo = store.get().conversations.find((c) => c.peer === peer)
    if (convo != null && convo.unread === 0) return
    store.set((s) => ({
      ...s,
      conversations: s.conversations.map((c) => (c.peer === peer ? { ...c, unread: 0 } : c)),
    }))
    await bridge.call('markRead', { peer }).catch((err: unknown) => log(`markRead: ${String(err)}`))
  }

  /** Coalesces the UA's and the node's news about the same message into one reload. */
  function soon(peer: string): void {
    if (!reloads.has(peer)) {
      reloads.set(
        peer,
        setTimeout(() => {
          reloads.delete(peer)
          if (store.get().threads[peer]?.loaded) void loadThread(peer)
          if (store.get().open === peer && platform.foreground()) void markRead(peer)
        }, 150),
      )
    }
    if (listReload === undefined) {
      listReload = setTimeout(() => {
        listReload = undefined
        void refreshConversations()
      }, 150)
    }
  }

  function notifyIncoming(peer: string, text: string): void {
    if (platform.foreground() && store.get().open === peer) return
    platform.notify(
      t('notify.messageTitle', { peer }),
      text.length > 140 ? `${text.slice(0, 139)}…` : text,
    )
  }

  async function deliver(peer: string, text: string): Promise<SendOutcome> {
    if (ua != null) {
      try {
        const r = await ua.sendMessage(peer, text)
        return outcomeOfStatus(r.status, peer, r.reason)
      } catch (err) {
        log(`UA MESSAGE failed, the node sends it instead: ${String(err)}`)
      }
    }
    try {
      const r = await bridge.call('message', { to: peer, text })
      return outcomeOfStatus(r.code, peer, r.reason)
    } catch (err) {
      const e = toApiError(err)
      return outcomeOfApiError(e.code, peer, e.message)
    }
  }

  return {
    store,
    attach(next) {
      ua = next
      const off = next.onMessage((m) => {
        soon(m.fromUser)
        notifyIncoming(m.fromUser, m.text)
      })
      return () => {
        off()
        if (ua === next) ua = undefined
      }
    },
    refreshConversations,
    open(peer) {
      store.patch({ open: peer })
      void loadThread(peer)
      void markRead(peer)
    },
    close: () => store.patch({ open: undefined }),
    async send(input, text) {
      const body = text.trim()
      if (body === '') return
      let peer: string
      try {
        peer = normalizeUserId(input)
      } catch {
        return
      }
      const local: LocalMessage = {
        localId: `local-${Date.now()}-${seq++}`,
        peer,
        text: body,
        date: new Date().toISOString(),
        status: 'sending',
      }
      setThread(peer, (th) => ({ ...th, local: [...th.local, local] }))
      const outcome = await deliver(peer, body)
      setThread(peer, (th) => ({
        ...th,
        local: th.local.map((l) =>
          l.localId === local.localId
            ? { ...l, status: outcome.status, ...(outcome.note ? { note: outcome.note } : {}) }
            : l,
        ),
      }))
      soon(peer)
    },
    seen() {
      const peer = store.get().open
      if (peer != null) void markRead(peer)
    },
    onNodeMessage(m) {
      const peer = peerUser(m.peer)
      if (thread(peer).loaded)
        setThread(peer, (th) => ({ ...th, messages: upsertMessage(th.messages, m) }))
      // Mail fetched from a supernode, or taken by the node while no UA was registered,
      // arrives only this way (the UA never saw it).
      if (m.direction === 'in' && (m.offline === true || ua == null)) notifyIncoming(peer, m.text)
      soon(peer)
    },
    resync() {
      void refreshConversations()
      for (const [peer, th] of Object.entries(store.get().threads)) {
        if (th.loaded) void loadThread(peer)
      }
    },
    totalUnread: () => store.get().conversations.reduce((n, c) => n + c.unread, 0),
  }
}
