/**
 * What the main process tells the page about the node (pure, so it is unit
 * tested without Electron): the connection state a `NodeProcessState` means,
 * and which node events may reach the page. Host events (`link`,
 * `connection`) share the page's event channel, so a node event with one of
 * their names must never be forwarded: only the contract's event names pass.
 */
import type { ConnectionState } from '../../shared/api/bridge.js'
import { apiEvents } from '../../shared/api/contract.js'
import type { NodeProcessState } from './node-process.js'

export function connectionStateOf(state: NodeProcessState): ConnectionState {
  if (state.kind === 'ready') return 'open'
  if (state.kind === 'stopped' && state.final) return 'closed'
  return 'connecting'
}

export function isNodeEvent(event: string): boolean {
  return Object.hasOwn(apiEvents, event)
}
