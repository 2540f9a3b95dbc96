import { describe, expect, it } from 'vitest'
import { IPC } from '../../../src/shared/api/bridge.js'
import { MAX_SIP_FRAME_CHARS } from '../../../src/shared/api/sip-bridge-protocol.js'
import {
  ipcArgSchemas,
  parseCallArgs,
  parseIpcArgs,
} from '../../../src/main/electron/ipc-validation.js'

describe('IPC argument validation', () => {
  it('covers every renderer-to-main channel of the allowlist and nothing else', () => {
    const mainToRenderer: string[] = [IPC.event, IPC.sipMessage, IPC.sipClosed, IPC.call]
    const expected = Object.values(IPC).filter((c) => !mainToRenderer.includes(c))
    expect(Object.keys(ipcArgSchemas).sort()).toEqual(expected.sort())
  })

  it('validates contract calls with the contract', () => {
    expect(parseCallArgs(['lookup', { name: 'alice' }])).toEqual({
      ok: true,
      value: { method: 'lookup', input: { name: 'alice' } },
    })
    // A missing input is {} (as over HTTP).
    expect(parseCallArgs(['status'])).toMatchObject({ ok: true, value: { input: {} } })
    expect(parseCallArgs(['status', undefined])).toMatchObject({ ok: true })
  })

  it('refuses unknown methods, bad inputs and extra arguments', () => {
    expect(parseCallArgs(['shutdown', {}])).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
    expect(parseCallArgs(['__proto__', {}])).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
    expect(parseCallArgs(['toString', {}])).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
    expect(parseCallArgs([{ method: 'status' }])).toMatchObject({ ok: false })
    expect(parseCallArgs([])).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
    expect(parseCallArgs(['status', {}, 'extra'])).toMatchObject({ ok: false })
    expect(parseCallArgs(['lookup', { name: '' }])).toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    })
    // Strict objects: no smuggled fields.
    expect(parseCallArgs(['lookup', { name: 'alice', admin: true }])).toMatchObject({ ok: false })
    expect(parseCallArgs(['message', { to: 'bob', text: 'x'.repeat(16_001) }])).toMatchObject({
      ok: false,
    })
  })

  it('checks SIP pipe arguments', () => {
    expect(parseIpcArgs(IPC.sipSend, [1, 'OPTIONS sip:x SIP/2.0\r\n\r\n'])).toMatchObject({
      ok: true,
    })
    for (const args of [
      [0, 'x'],
      [-1, 'x'],
      [1.5, 'x'],
      ['1', 'x'],
      [1, ''],
      [1, 'x'.repeat(MAX_SIP_FRAME_CHARS + 1)],
      [1, { raw: 'x' }],
      [1, 'x', 'extra'],
    ]) {
      expect(parseIpcArgs(IPC.sipSend, args).ok, JSON.stringify(args).slice(0, 40)).toBe(false)
    }
    expect(parseIpcArgs(IPC.sipClose, [3])).toEqual({ ok: true, value: [3] })
    expect(parseIpcArgs(IPC.sipClose, []).ok).toBe(false)
  })

  it('checks desktop arguments', () => {
    expect(parseIpcArgs(IPC.notify, ['Alice', 'hi'])).toEqual({ ok: true, value: ['Alice', 'hi'] })
    expect(parseIpcArgs(IPC.notify, ['', 'hi']).ok).toBe(false)
    expect(parseIpcArgs(IPC.notify, ['t'.repeat(201), 'hi']).ok).toBe(false)
    expect(parseIpcArgs(IPC.notify, ['Alice', 'b'.repeat(2001)]).ok).toBe(false)
    expect(parseIpcArgs(IPC.autostartSet, [true])).toEqual({ ok: true, value: [true] })
    expect(parseIpcArgs(IPC.autostartSet, ['yes']).ok).toBe(false)
    expect(parseIpcArgs(IPC.callStarting, []).ok).toBe(true)
    expect(parseIpcArgs(IPC.callStarting, ['x']).ok).toBe(false)
    expect(parseIpcArgs(IPC.callEnded, [1]).ok).toBe(false)
  })
})
