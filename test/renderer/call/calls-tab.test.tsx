/**
 * The Calls tab shows where encryption ended (the anchor note) for every call
 * the node's history lists, not only for calls this session saw.
 */
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import type { CallRecordJson } from '../../../src/shared/api/contract.js'
import type { AppServices } from '../../../src/renderer/app/create-app.js'
import type { CallController } from '../../../src/renderer/call/call-controller.js'
import { CallsView } from '../../../src/renderer/ui/CallsView.js'
import { AppContext } from '../../../src/renderer/ui/app-context.js'
import { FakeCall, nodeCall, setupCalls, tick } from './call-controller-fakes.js'

const NOTE = 'SIP phone, encrypted to alice&#x27;s node only'

/** The rendered rows, one string each, newest first. */
function callsTab(calls: CallController): string[] {
  const html = renderToStaticMarkup(
    <AppContext.Provider value={{ calls } as unknown as AppServices}>
      <CallsView nav={{ chat() {}, call() {} }} />
    </AppContext.Provider>,
  )
  return html.split('</li>').slice(0, -1)
}

describe('Calls tab: the anchor note for calls in the node’s history', () => {
  it('shows the note for an anchored call the node listed, and none for an end-to-end one', async () => {
    const nodeLog: CallRecordJson[] = [
      { ...nodeCall('old-anchored', 'alice', '2025-01-02T10:00:00.000Z'), anchor: 'phone' },
      nodeCall('old-e2e', 'bob', '2025-01-01T10:00:00.000Z'),
    ]
    const { calls } = setupCalls(true, nodeLog)
    await calls.refreshHistory()
    const rows = callsTab(calls)
    expect(rows).toHaveLength(2)
    expect(rows[0]).toContain('alice')
    expect(rows[0]).toContain(NOTE)
    expect(rows[1]).toContain('bob')
    expect(rows[1]).not.toContain('SIP phone')
  })

  it('shows the note after a restart for a call this app logged before it', async () => {
    const nodeLog: CallRecordJson[] = []
    const first = setupCalls(true, nodeLog)
    const c = new FakeCall('c5', 'alice', 'incoming', undefined, 'phone')
    first.deliver(c)
    c.emit('active')
    c.emit('ended', { outcome: 'answered', by: 'remote', reason: 'Hung up' })
    await tick()

    // A new session: only what the node kept reaches the tab.
    const later = setupCalls(true, nodeLog)
    expect(callsTab(later.calls)).toEqual([])
    await later.calls.refreshHistory()
    const rows = callsTab(later.calls)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toContain(NOTE)
  })
})
