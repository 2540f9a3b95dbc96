/**
 * The Electron bridge over a fake `window.kaiwa`: replies validated against
 * the contract, error codes recovered from `[code] message`, events filtered,
 * `kaiwa:` links held until someone listens, and SIP pipes.
 */
import { describe, expect, it } from 'vitest'
import type { PreloadApi } from '../../../src/shared/api/bridge.js'
import { ApiError } from '../../../src/renderer/bridge/api-error.js'
import { createPreloadBridge } from '../../../src/renderer/bridge/preload-bridge.js'

function fakePreload() {
  let emit: (event: string, data: unknown) => void = () => {}
  const sent: Array<[number, string]> = []
  const closed: number[] = []
  const sipListeners = new Map<number, (raw: string) => void>()
  const closeListeners = new Map<number, (reason: string) => void>()
  let nextPipe = 1
  const api: PreloadApi = {
    async call(method) {
      if (method === 'settings')
        return { supernodeMode: 'off', caps: { relayKbps: 0, relayedCalls: 0, storageMiB: 0 } }
      if (method === 'usage') return { role: 'emperor' }
      throw new Error(
        "Error invoking remote method 'kaiwa:call': Error: [name_taken] the user ID is taken",
      )
    },
    onEvent(listener) {
      emit = listener
      return () => {}
    },
    sipOpen: async () => nextPipe++,
    sipSend: (pipe, raw) => void sent.push([pipe, raw]),
    onSip(pipe, l) {
      sipListeners.set(pipe, l)
      return () => sipListeners.delete(pipe)
    },
    onSipClose(pipe, l) {
      closeListeners.set(pipe, l)
      return () => closeListeners.delete(pipe)
    },
    sipClose: (pipe) => void closed.push(pipe),
    desktop: {
      callStarting: async () => {},
      callEnded: () => {},
      notify: () => {},
      setAutostart: async (v) => v,
      getAutostart: async () => false,
      versions: {},
    },
  }
  return {
    api,
    emit: (e: string, d: unknown) => emit(e, d),
    sent,
    closed,
    sipListeners,
    closeListeners,
  }
}

describe('preload bridge', () => {
  it('validates replies and recovers error codes', async () => {
    const f = fakePreload()
    const b = createPreloadBridge(f.api)
    expect(b.kind).toBe('electron')
    expect((await b.call('settings', {})).supernodeMode).toBe('off')
    await expect(b.call('usage', {})).rejects.toMatchObject({ code: 'invalid_reply' })
    const err = await b.call('claim', { name: 'alice' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err).toMatchObject({ code: 'name_taken', message: 'the user ID is taken' })
  })

  it('passes contract events, drops others, and holds links until someone listens', () => {
    const f = fakePreload()
    const b = createPreloadBridge(f.api)
    const events: string[] = []
    b.onEvent((e) => events.push(e.event))
    f.emit('link', { name: 'alice', fingerprint: 'abcd-efgh-ijkl-mnop' })
    f.emit('link', { nonsense: true })
    f.emit('usage', { role: 'emperor' })
    f.emit('whatever', {})
    f.emit('usage', {
      role: 'client',
      bytesRelayed: 0,
      relayKbps: 0,
      relayedCalls: 0,
      peersServed: 0,
      recordsStored: 0,
      mailboxBytes: 0,
      mailboxMessages: 0,
      caps: { relayKbps: 0, relayedCalls: 0, storageMiB: 0 },
    })
    expect(events).toEqual(['usage'])
    const links: unknown[] = []
    b.onLink((l) => links.push(l))
    f.emit('link', { name: 'bob' })
    expect(links).toEqual([{ name: 'alice', fingerprint: 'abcd-efgh-ijkl-mnop' }, { name: 'bob' }])
  })

  it('opens, uses and closes SIP pipes; a pipe closed by main says so once', async () => {
    const f = fakePreload()
    const pipe = createPreloadBridge(f.api).sip()
    expect(() => pipe.send('x')).toThrow(/not open/)
    await pipe.open()
    expect(pipe.isOpen).toBe(true)
    const got: string[] = []
    const closes: string[] = []
    pipe.onMessage((raw) => got.push(raw))
    pipe.onClose((e) => closes.push(e.message))
    pipe.send('OPTIONS sip:x SIP/2.0')
    f.sipListeners.get(1)!('SIP/2.0 200 OK')
    expect(f.sent).toEqual([[1, 'OPTIONS sip:x SIP/2.0']])
    expect(got).toEqual(['SIP/2.0 200 OK'])
    // Reopening replaces the pipe.
    await pipe.open()
    expect(f.closed).toEqual([1])
    f.closeListeners.get(2)!('node restarted')
    expect(closes).toEqual(['the SIP pipe closed (node restarted)'])
    expect(pipe.isOpen).toBe(false)
    pipe.close() // nothing left to close
    expect(f.closed).toEqual([1])
  })
})
