/**
 * The preload against a stand-in for Electron's contextBridge and
 * ipcRenderer (the only module a sandboxed preload may load): what it exposes,
 * which channels it uses, and how replies, errors, events and SIP pipes cross.
 */
import { EventEmitter } from 'node:events'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { IPC } from '../../src/shared/api/bridge.js'
import type { PreloadApi } from '../../src/shared/api/bridge.js'

const electron = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoked: [] as Array<[string, unknown[]]>,
  sent: [] as Array<[string, unknown[]]>,
  replies: new Map<string, (...args: unknown[]) => unknown>(),
  renderer: undefined as unknown as EventEmitter,
}))

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events')
  electron.renderer = new Emitter()
  return {
    contextBridge: {
      exposeInMainWorld: (key: string, api: unknown) => electron.exposed.set(key, api),
    },
    webUtils: { getPathForFile: (file: { path?: string }) => file.path ?? '' },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        electron.invoked.push([channel, args])
        return electron.replies.get(channel)?.(...args)
      },
      send: (channel: string, ...args: unknown[]) => void electron.sent.push([channel, args]),
      on: (channel: string, l: (...a: unknown[]) => void) => electron.renderer.on(channel, l),
    },
  }
})

/** Main → renderer, as webContents.send does (the first argument is the IPC event). */
const fromMain = (channel: string, ...args: unknown[]): void =>
  void electron.renderer.emit(channel, { sender: 'secret' }, ...args)

async function loadPreload(): Promise<PreloadApi> {
  vi.resetModules()
  electron.exposed.clear()
  electron.invoked.length = 0
  electron.sent.length = 0
  electron.replies.clear()
  electron.renderer?.removeAllListeners() // listeners of the previous test's preload
  await import('../../src/preload/preload.js')
  expect([...electron.exposed.keys()]).toEqual(['kaiwa'])
  return electron.exposed.get('kaiwa') as PreloadApi
}

let kaiwa: PreloadApi
beforeEach(async () => {
  kaiwa = await loadPreload()
})

describe('preload', () => {
  it('exposes exactly the PreloadApi, as plain functions', () => {
    expect(Object.keys(kaiwa).sort()).toEqual(
      [
        'call',
        'desktop',
        'onEvent',
        'onSip',
        'onSipClose',
        'sipClose',
        'sipOpen',
        'sipSend',
      ].sort(),
    )
    expect(Object.keys(kaiwa.desktop).sort()).toEqual(
      [
        'callEnded',
        'callStarting',
        'cameraStarting',
        'cameraStopped',
        'chooseScreen',
        'filePath',
        'filePreview',
        'getAutostart',
        'notify',
        'saveFile',
        'screenSources',
        'setAutostart',
        'versions',
      ].sort(),
    )
    expect(kaiwa.desktop.versions.node).toBe(process.versions.node)
    // Nothing exposes ipcRenderer or a channel-taking function.
    expect(JSON.stringify(Object.keys(kaiwa))).not.toMatch(/ipc|send\b|invoke/)
  })

  it('unwraps call replies and carries error codes in the message', async () => {
    electron.replies.set(IPC.call, (method) =>
      method === 'status'
        ? { ok: true, result: { peerId: 'p' } }
        : { ok: false, error: { code: 'not_found', message: 'no user "bob"' } },
    )
    expect(await kaiwa.call('status', {})).toEqual({ peerId: 'p' })
    await expect(kaiwa.call('lookup', { name: 'bob' })).rejects.toThrow('[not_found] no user "bob"')
    expect(electron.invoked).toEqual([
      [IPC.call, ['status', {}]],
      [IPC.call, ['lookup', { name: 'bob' }]],
    ])
  })

  it('uses only allowlisted channels', async () => {
    electron.replies.set(IPC.sipOpen, () => ({ ok: true, result: 3 }))
    electron.replies.set(IPC.callStarting, () => ({ ok: true, result: undefined }))
    electron.replies.set(IPC.autostartGet, () => ({ ok: true, result: false }))
    electron.replies.set(IPC.autostartSet, (on) => ({ ok: true, result: on }))
    electron.replies.set(IPC.cameraStarting, () => ({ ok: true, result: undefined }))
    electron.replies.set(IPC.screenSources, () => ({ ok: true, result: [] }))
    electron.replies.set(IPC.screenChoose, () => ({ ok: true, result: undefined }))
    electron.replies.set(IPC.fileSave, () => ({ ok: true, result: null }))
    electron.replies.set(IPC.filePreview, () => ({ ok: true, result: Uint8Array.of(1, 2) }))
    expect(await kaiwa.sipOpen()).toBe(3)
    kaiwa.sipSend(3, 'OPTIONS sip:x SIP/2.0\r\n\r\n')
    kaiwa.sipClose(3)
    await kaiwa.desktop.callStarting()
    kaiwa.desktop.callEnded()
    kaiwa.desktop.notify('Alice', 'hi')
    await kaiwa.desktop.cameraStarting()
    kaiwa.desktop.cameraStopped()
    expect(await kaiwa.desktop.screenSources()).toEqual([])
    await kaiwa.desktop.chooseScreen('screen:0:0')
    expect(await kaiwa.desktop.getAutostart()).toBe(false)
    expect(await kaiwa.desktop.setAutostart(true)).toBe(true)
    expect(await kaiwa.desktop.saveFile('a'.repeat(32))).toBeNull()
    expect(await kaiwa.desktop.filePreview('a'.repeat(32))).toEqual(Uint8Array.of(1, 2))
    const allowed = new Set<string>(Object.values(IPC))
    for (const [channel] of [...electron.invoked, ...electron.sent]) {
      expect(allowed.has(channel), channel).toBe(true)
    }
    expect(electron.sent).toEqual([
      [IPC.sipSend, [3, 'OPTIONS sip:x SIP/2.0\r\n\r\n']],
      [IPC.sipClose, [3]],
      [IPC.callEnded, []],
      [IPC.notify, ['Alice', 'hi']],
      [IPC.cameraStopped, []],
    ])
    expect(electron.invoked.map(([c, a]) => [c, a])).toEqual([
      [IPC.sipOpen, []],
      [IPC.callStarting, []],
      [IPC.cameraStarting, []],
      [IPC.screenSources, []],
      [IPC.screenChoose, ['screen:0:0']],
      [IPC.autostartGet, []],
      [IPC.autostartSet, [true]],
      [IPC.fileSave, ['a'.repeat(32)]],
      [IPC.filePreview, ['a'.repeat(32)]],
    ])
  })

  it('rejects callStarting when the main process refuses', async () => {
    electron.replies.set(IPC.callStarting, () => ({
      ok: false,
      error: { code: 'permission_denied', message: 'no microphone' },
    }))
    await expect(kaiwa.desktop.callStarting()).rejects.toThrow('[permission_denied] no microphone')
  })

  it('delivers events without the IPC event object, holding early ones', () => {
    fromMain(IPC.event, 'link', { name: 'alice' }) // before anyone listens (a launch link)
    const got: Array<[string, unknown]> = []
    const off = kaiwa.onEvent((e, d) => got.push([e, d]))
    fromMain(IPC.event, 'status', { peers: 1 })
    off()
    fromMain(IPC.event, 'status', { peers: 2 })
    expect(got).toEqual([
      ['link', { name: 'alice' }],
      ['status', { peers: 1 }],
    ])
  })

  it('holds only a bounded number of early events', () => {
    for (let i = 0; i < 100; i++) fromMain(IPC.event, 'status', i)
    const got: unknown[] = []
    kaiwa.onEvent((_e, d) => got.push(d))
    expect(got).toHaveLength(32)
  })

  it('routes SIP messages and closes to their pipe only', () => {
    const one: string[] = []
    const two: string[] = []
    const closes: string[] = []
    const offOne = kaiwa.onSip(1, (raw) => one.push(raw))
    kaiwa.onSip(2, (raw) => two.push(raw))
    kaiwa.onSipClose(1, (reason) => closes.push(reason))
    fromMain(IPC.sipMessage, 1, 'SIP/2.0 200 OK\r\n\r\n')
    fromMain(IPC.sipMessage, 2, 'MESSAGE sip:a SIP/2.0\r\n\r\n')
    fromMain(IPC.sipClosed, 2, 'gone')
    offOne()
    fromMain(IPC.sipMessage, 1, 'late')
    fromMain(IPC.sipClosed, 1, 'the Kaiwa node stopped')
    expect(one).toEqual(['SIP/2.0 200 OK\r\n\r\n'])
    expect(two).toEqual(['MESSAGE sip:a SIP/2.0\r\n\r\n'])
    expect(closes).toEqual(['the Kaiwa node stopped'])
  })

  it('registers one ipcRenderer listener per channel, however many pipes', () => {
    for (let i = 1; i <= 20; i++) kaiwa.onSip(i, () => {})
    expect(electron.renderer.listenerCount(IPC.sipMessage)).toBe(1)
    expect(electron.renderer.listenerCount(IPC.sipClosed)).toBe(1)
    expect(electron.renderer.listenerCount(IPC.event)).toBe(1)
    expect(electron.renderer).toBeInstanceOf(EventEmitter)
  })
})
