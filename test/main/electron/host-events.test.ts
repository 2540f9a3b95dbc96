import { describe, expect, it } from 'vitest'
import { connectionStateOf, isNodeEvent } from '../../../src/main/electron/host-events.js'
import { HOST_EVENT } from '../../../src/shared/api/bridge.js'
import { apiEvents } from '../../../src/shared/api/contract.js'

describe('host events (main process → page)', () => {
  it('maps the node process state to the bridge connection state', () => {
    expect(connectionStateOf({ kind: 'ready' } as never)).toBe('open')
    expect(connectionStateOf({ kind: 'starting' } as never)).toBe('connecting')
    expect(connectionStateOf({ kind: 'stopped', reason: 'crashed', final: false })).toBe(
      'connecting',
    )
    expect(connectionStateOf({ kind: 'stopped', reason: 'quit', final: true })).toBe('closed')
  })

  it('forwards only the contract events, never a node event named like a host event', () => {
    for (const name of Object.keys(apiEvents)) expect(isNodeEvent(name)).toBe(true)
    expect(isNodeEvent(HOST_EVENT.link)).toBe(false)
    expect(isNodeEvent(HOST_EVENT.connection)).toBe(false)
    expect(isNodeEvent('__proto__')).toBe(false)
    expect(isNodeEvent('toString')).toBe(false)
  })
})
