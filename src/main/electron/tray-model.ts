/**
 * What the tray shows, as data: a status line, "in a call", Show, the
 * opt-in autostart toggle and Quit. tray.ts turns it into an Electron menu;
 * keeping the model pure lets it be tested without a desktop.
 */
import type { Role } from '../../shared/api/contract.js'

export type NodeState =
  | { kind: 'starting' }
  | { kind: 'running'; name: string | null; role: Role; peers: number }
  | { kind: 'stopped'; reason: string }

export interface TrayState {
  node: NodeState
  inCall: boolean
  /** Undefined where autostart is not supported (the toggle is left out). */
  autostart: boolean | undefined
}

export type TrayActionId = 'show' | 'quit'

export type TrayItem =
  | { type: 'label'; label: string }
  | { type: 'separator' }
  | { type: 'action'; id: TrayActionId; label: string }
  | { type: 'toggle'; id: 'autostart'; label: string; checked: boolean }

/** Desktop menus truncate badly; keep the free text (a start-up error) short. */
const MAX_REASON_CHARS = 80

function short(text: string): string {
  const line = text.split('\n', 1)[0]!.trim()
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS - 1)}…` : line
}

export function statusLine(node: NodeState): string {
  switch (node.kind) {
    case 'starting':
      return 'Connecting…'
    case 'stopped':
      return `Offline: ${short(node.reason)}`
    case 'running': {
      const who = node.name ?? 'no user ID yet'
      const peers = node.peers === 1 ? '1 peer' : `${node.peers} peers`
      const role = node.role === 'supernode' ? ', supernode' : ''
      return `${who} · ${node.peers > 0 ? 'online' : 'no peers'} (${peers}${role})`
    }
  }
}

export function trayTooltip(state: TrayState): string {
  return `Kaiwa: ${state.inCall ? 'in a call' : statusLine(state.node)}`
}

export function trayMenu(state: TrayState): TrayItem[] {
  const items: TrayItem[] = [{ type: 'label', label: statusLine(state.node) }]
  if (state.inCall) items.push({ type: 'label', label: 'In a call' })
  items.push({ type: 'separator' }, { type: 'action', id: 'show', label: 'Show Kaiwa' })
  if (state.autostart !== undefined) {
    items.push({
      type: 'toggle',
      id: 'autostart',
      label: 'Start at login',
      checked: state.autostart,
    })
  }
  items.push({ type: 'separator' }, { type: 'action', id: 'quit', label: 'Quit Kaiwa' })
  return items
}
