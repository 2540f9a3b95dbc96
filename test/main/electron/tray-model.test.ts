import { describe, expect, it } from 'vitest'
import { statusLine, trayMenu, trayTooltip } from '../../../src/main/electron/tray-model.js'
import type { TrayState } from '../../../src/main/electron/tray-model.js'

const running: TrayState = {
  node: { kind: 'running', name: 'alice', role: 'client', peers: 3 },
  inCall: false,
  autostart: false,
}

describe('tray model', () => {
  it('describes the node', () => {
    expect(statusLine({ kind: 'starting' })).toBe('Connecting…')
    expect(statusLine(running.node)).toBe('alice · online (3 peers)')
    expect(statusLine({ kind: 'running', name: null, role: 'supernode', peers: 1 })).toBe(
      'no user ID yet · online (1 peer, supernode)',
    )
    expect(statusLine({ kind: 'running', name: 'a1', role: 'client', peers: 0 })).toBe(
      'a1 · no peers (0 peers)',
    )
    const long = statusLine({ kind: 'stopped', reason: `${'x'.repeat(200)}\nstack` })
    expect(long.length).toBeLessThan(100)
    expect(long).not.toContain('stack')
  })

  it('has status, Show, the autostart toggle and Quit', () => {
    expect(trayMenu(running)).toEqual([
      { type: 'label', label: 'alice · online (3 peers)' },
      { type: 'separator' },
      { type: 'action', id: 'show', label: 'Show Kaiwa' },
      { type: 'toggle', id: 'autostart', label: 'Start at login', checked: false },
      { type: 'separator' },
      { type: 'action', id: 'quit', label: 'Quit Kaiwa' },
    ])
  })

  it('shows a call, and leaves autostart out where unsupported', () => {
    const items = trayMenu({ ...running, inCall: true, autostart: undefined })
    expect(items[1]).toEqual({ type: 'label', label: 'In a call' })
    expect(items.some((i) => i.type === 'toggle')).toBe(false)
    expect(items.at(-1)).toEqual({ type: 'action', id: 'quit', label: 'Quit Kaiwa' })
    expect(trayTooltip({ ...running, inCall: true })).toBe('Kaiwa: in a call')
    expect(trayTooltip(running)).toBe('Kaiwa: alice · online (3 peers)')
  })
})
