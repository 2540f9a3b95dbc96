/**
 * While a client has no supernode it is on no network, and with supernodes
 * opt-in (issue 13) that is a fresh install's normal state: say so at
 * start-up and every few minutes while it lasts, with what to do, and say
 * once when a supernode is found.
 */
import type { Role } from '../shared/api/contract.js'
import type { Logger } from '../shared/logger.js'
import { noSupernodeHint } from '../shared/network/no-supernode.js'

export interface NoSupernodeNoticeInit {
  role: () => Role
  supernodes: () => string[]
  /** Connected LAN peers that serve names: with some, the node is on a LAN-only network. */
  lanPeers?: () => number
  log: Logger
  /** How often the notice repeats while alone (default 5 min). */
  intervalMs?: number
  /** Grace after start-up before the first notice, for bootstrap dials to land (default 15 s). */
  firstAfterMs?: number
}

/** Starts the notice; returns its stop. */
export function startNoSupernodeNotice(init: NoSupernodeNoticeInit): () => void {
  let alone = false
  const check = (): void => {
    const hint = noSupernodeHint(init.role(), init.supernodes().length, init.lanPeers?.() ?? 0)
    if (hint != null) init.log.warn(hint)
    else if (alone) init.log.info('connected to a supernode: this node is on the network')
    alone = hint != null
  }
  const first = setTimeout(check, init.firstAfterMs ?? 15_000)
  const every = setInterval(check, init.intervalMs ?? 5 * 60_000)
  first.unref?.()
  every.unref?.()
  return () => {
    clearTimeout(first)
    clearInterval(every)
  }
}
