/**
 * The events a node pushes to its UI (contract: `apiEvents`): each stored
 * message as it is sent or received, each file transfer as it changes, and status and usage every few seconds
 * while someone listens, so Settings and the network indicator stay live
 * without polling from the page.
 */
import type { ApiEventSource } from './api/api-server.js'
import type { KaiwaNode } from './kaiwa-node.js'
import { groupMessageJson } from './api/group-api.js'

/** How often status and usage are pushed while a UI is connected. */
export const STATUS_PUSH_MS = 5000
/** How often a moving transfer's progress (bytes, rate, time left) is pushed. */
export const PROGRESS_PUSH_MS = 1000

export function nodeEvents(node: KaiwaNode, intervalMs = STATUS_PUSH_MS): ApiEventSource {
  return {
    on(listener) {
      const offMessage = node.sip.history.onAdded((msg) => listener('message', msg))
      const offGroup = node.groups.onMessage((m) => listener('groupMessage', groupMessageJson(m)))
      const offGroupChange = node.groups.onGroup((group) => listener('groupChanged', { group }))
      const offTransfer = node.files.onChange((id) => {
        void node.files.view(id).then(
          (t) => listener('transfer', t),
          () => {},
        )
      })
      // Sessions report only their changes of state; progress is pushed here while it moves.
      let looking = false
      const progress = setInterval(() => {
        if (looking) return
        looking = true
        void node.files
          .list()
          .then((all) => {
            for (const t of all)
              if (t.status === 'sending' || t.status === 'receiving') listener('transfer', t)
          })
          .catch(() => {})
          .finally(() => {
            looking = false
          })
      }, PROGRESS_PUSH_MS)
      progress.unref()
      let busy = false
      const timer = setInterval(() => {
        if (busy) return
        busy = true
        void (async () => {
          const status = await node.api.status({})
          listener('status', status)
          listener('usage', status.usage)
        })()
          .catch(() => {
            // the node is stopping; the next tick (if any) tries again
          })
          .finally(() => {
            busy = false
          })
      }, intervalMs)
      timer.unref()
      return () => {
        offMessage()
        offGroup()
        offGroupChange()
        offTransfer()
        clearInterval(timer)
        clearInterval(progress)
      }
    },
  }
}
