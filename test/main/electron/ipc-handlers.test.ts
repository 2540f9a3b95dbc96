import { describe, expect, it } from 'vitest'
import { IPC } from '../../../src/shared/api/bridge.js'
import { CallGate } from '../../../src/main/electron/call-gate.js'
import { MediaGate } from '../../../src/main/electron/media-gate.js'
import { registerIpcHandlers } from '../../../src/main/electron/ipc-handlers.js'
import type { IpcHandlerDeps, IpcMainLike } from '../../../src/main/electron/ipc-handlers.js'
import { failure, ok } from '../../../src/main/electron/ipc-validation.js'
import { SipPipeError } from '../../../src/main/electron/sip-pipes.js'
import { FakeIpcMain, OUR_PAGE, quietLogger } from './fakes/electron-fakes.js'
import type { FakeIpcEvent } from './fakes/electron-fakes.js'

function setup(over: Partial<IpcHandlerDeps> = {}) {
  const ipc = new FakeIpcMain()
  const calls: Array<[string, unknown]> = []
  const sent: Array<[number, string]> = []
  const closed: number[] = []
  const notes: Array<[string, string]> = []
  const logs: string[] = []
  let autostart = false
  const gate = new CallGate()
  const media = new MediaGate(() => gate.active)
  const unregister = registerIpcHandlers({
    ipcMain: ipc as unknown as IpcMainLike,
    windowContentsId: () => 1,
    call: async (method, input) => {
      calls.push([method, input])
      return method === 'lookup' ? failure('not_found', 'nobody') : ok({ method })
    },
    pipes: {
      open: async () => 5,
      send: (id, raw) => sent.push([id, raw]) > 0,
      close: (id) => void closed.push(id),
    },
    calls: gate,
    media,
    listScreens: async () => [
      { id: 'screen:0:0', name: 'Entire screen', kind: 'screen' },
      { id: 'window:7:0', name: 'Editor', kind: 'window' },
    ],
    now: () => 1000,
    notify: (t, b) => void notes.push([t, b]),
    autostart: {
      get: async () => autostart,
      set: async (on) => (autostart = on),
    },
    log: quietLogger(logs),
    ...over,
  })
  return { ipc, calls, sent, closed, notes, logs, gate, media, unregister }
}

const strangers: Array<[string, FakeIpcEvent]> = [
  ['another window', { ...OUR_PAGE, sender: { id: 2 } }],
  ['a subframe', { sender: { id: 1 }, senderFrame: { url: 'app://kaiwa/x', parent: {} } }],
  [
    'a foreign page',
    { sender: { id: 1 }, senderFrame: { url: 'https://evil.example/', parent: null } },
  ],
  ['a gone frame', { sender: { id: 1 }, senderFrame: null }],
]

describe('IPC handlers', () => {
  it('handles exactly the allowlisted channels', () => {
    const { ipc, unregister } = setup()
    const all = [...ipc.handlers.keys(), ...ipc.listeners.keys()].sort()
    const mainToRenderer: string[] = [IPC.event, IPC.sipMessage, IPC.sipClosed]
    expect(all).toEqual(
      Object.values(IPC)
        .filter((c) => !mainToRenderer.includes(c))
        .sort(),
    )
    unregister()
    expect(ipc.handlers.size + ipc.listeners.size).toBe(0)
  })

  it('forwards valid contract calls and passes error codes back', async () => {
    const { ipc, calls } = setup()
    expect(await ipc.invoke(IPC.call, OUR_PAGE, 'status', {})).toEqual(ok({ method: 'status' }))
    expect(await ipc.invoke(IPC.call, OUR_PAGE, 'lookup', { name: 'bob' })).toEqual(
      failure('not_found', 'nobody'),
    )
    expect(calls).toEqual([
      ['status', {}],
      ['lookup', { name: 'bob' }],
    ])
  })

  it('refuses invalid calls before they reach the node', async () => {
    const { ipc, calls } = setup()
    expect(await ipc.invoke(IPC.call, OUR_PAGE, 'nope', {})).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
    expect(await ipc.invoke(IPC.call, OUR_PAGE, 'claim', { name: 5 })).toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    })
    expect(calls).toEqual([])
  })

  it.each(strangers)('refuses every channel from %s', async (_label, event) => {
    const { ipc, calls, sent, closed, notes, gate, logs } = setup()
    for (const channel of [
      IPC.call,
      IPC.sipOpen,
      IPC.callStarting,
      IPC.cameraStarting,
      IPC.screenSources,
      IPC.screenChoose,
      IPC.autostartGet,
      IPC.autostartSet,
    ]) {
      const args =
        channel === IPC.call
          ? ['status', {}]
          : channel === IPC.autostartSet
            ? [true]
            : channel === IPC.screenChoose
              ? ['screen:0:0']
              : []
      expect(await ipc.invoke(channel, event, ...args)).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      })
    }
    ipc.send(IPC.sipSend, event, 1, 'OPTIONS sip:a SIP/2.0\r\n\r\n')
    ipc.send(IPC.sipClose, event, 1)
    ipc.send(IPC.notify, event, 'spam', 'spam')
    ipc.send(IPC.callEnded, event)
    ipc.send(IPC.cameraStopped, event)
    expect([calls, sent, closed, notes]).toEqual([[], [], [], []])
    expect(gate.active).toBe(false)
    expect(logs.filter((l) => l.startsWith('warn refused')).length).toBe(13)
  })

  it('runs SIP pipes', async () => {
    const { ipc, sent, closed } = setup()
    expect(await ipc.invoke(IPC.sipOpen, OUR_PAGE)).toEqual(ok(5))
    ipc.send(IPC.sipSend, OUR_PAGE, 5, 'MESSAGE sip:bob@kaiwa SIP/2.0\r\n\r\n')
    ipc.send(IPC.sipSend, OUR_PAGE, 5, '') // invalid: dropped
    ipc.send(IPC.sipSend, OUR_PAGE, 'five', 'x') // invalid: dropped
    ipc.send(IPC.sipClose, OUR_PAGE, 5)
    expect(sent).toEqual([[5, 'MESSAGE sip:bob@kaiwa SIP/2.0\r\n\r\n']])
    expect(closed).toEqual([5])
  })

  it('reports why a pipe could not open', async () => {
    const { ipc } = setup({
      pipes: {
        open: async () => {
          throw new SipPipeError('too_many', 'at most 8')
        },
        send: () => false,
        close: () => {},
      },
    })
    expect(await ipc.invoke(IPC.sipOpen, OUR_PAGE)).toEqual(failure('too_many', 'at most 8'))
  })

  it('opens the call gate on callStarting and closes it on callEnded', async () => {
    const { ipc, gate } = setup()
    expect(await ipc.invoke(IPC.callStarting, OUR_PAGE)).toEqual(ok(undefined))
    expect(gate.active).toBe(true)
    ipc.send(IPC.callEnded, OUR_PAGE)
    expect(gate.active).toBe(false)
  })

  it('keeps the gate shut when the OS refuses the microphone', async () => {
    const { ipc, gate } = setup({ askMicrophone: async () => false })
    expect(await ipc.invoke(IPC.callStarting, OUR_PAGE)).toMatchObject({
      ok: false,
      error: { code: 'permission_denied' },
    })
    expect(gate.active).toBe(false)
  })

  it('opens the camera only in a call, and shuts it when the OS refuses', async () => {
    const { ipc, gate, media } = setup()
    expect(await ipc.invoke(IPC.cameraStarting, OUR_PAGE)).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    })
    await ipc.invoke(IPC.callStarting, OUR_PAGE)
    expect(await ipc.invoke(IPC.cameraStarting, OUR_PAGE)).toEqual(ok(undefined))
    expect(media.camera).toBe(true)
    ipc.send(IPC.cameraStopped, OUR_PAGE)
    expect(media.camera).toBe(false)
    expect(gate.active).toBe(true)
    const refused = setup({ askCamera: async () => false })
    await refused.ipc.invoke(IPC.callStarting, OUR_PAGE)
    expect(await refused.ipc.invoke(IPC.cameraStarting, OUR_PAGE)).toMatchObject({
      ok: false,
      error: { code: 'permission_denied' },
    })
    expect(refused.media.camera).toBe(false)
  })

  it('lists screens in a call only, and arms only a listed, valid choice', async () => {
    const { ipc, media } = setup()
    expect(await ipc.invoke(IPC.screenSources, OUR_PAGE)).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    })
    await ipc.invoke(IPC.callStarting, OUR_PAGE)
    const listed = await ipc.invoke(IPC.screenSources, OUR_PAGE)
    expect(listed).toMatchObject({ ok: true, result: [{ id: 'screen:0:0' }, { id: 'window:7:0' }] })
    for (const bad of ['window:8:0', '../etc', 'screen:0:0; rm', 42]) {
      expect(await ipc.invoke(IPC.screenChoose, OUR_PAGE, bad)).toMatchObject({ ok: false })
    }
    expect(media.screenArmed(1000)).toBe(false)
    expect(await ipc.invoke(IPC.screenChoose, OUR_PAGE, 'window:7:0')).toEqual(ok(undefined))
    expect(media.take(1000)).toBe('window:7:0')
  })

  it('refuses a source list it cannot vouch for', async () => {
    const { ipc } = setup({
      listScreens: async () => [{ id: 'javascript:alert(1)', name: 'x', kind: 'screen' }],
    })
    await ipc.invoke(IPC.callStarting, OUR_PAGE)
    expect(await ipc.invoke(IPC.screenSources, OUR_PAGE)).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    })
  })

  it('notifies and toggles autostart', async () => {
    const { ipc, notes } = setup()
    ipc.send(IPC.notify, OUR_PAGE, 'Alice', 'hello')
    ipc.send(IPC.notify, OUR_PAGE, 'x'.repeat(500), 'too long a title')
    expect(notes).toEqual([['Alice', 'hello']])
    expect(await ipc.invoke(IPC.autostartGet, OUR_PAGE)).toEqual(ok(false))
    expect(await ipc.invoke(IPC.autostartSet, OUR_PAGE, true)).toEqual(ok(true))
    expect(await ipc.invoke(IPC.autostartGet, OUR_PAGE)).toEqual(ok(true))
    expect(await ipc.invoke(IPC.autostartSet, OUR_PAGE, 'on')).toMatchObject({ ok: false })
  })

  it('says when autostart is not supported', async () => {
    const { ipc } = setup({ autostart: undefined })
    expect(await ipc.invoke(IPC.autostartGet, OUR_PAGE)).toEqual(ok(false))
    expect(await ipc.invoke(IPC.autostartSet, OUR_PAGE, true)).toMatchObject({
      ok: false,
      error: { code: 'unavailable' },
    })
  })

  it('turns a handler that throws into an internal error', async () => {
    const { ipc } = setup({
      autostart: {
        get: async () => {
          throw new Error('disk full')
        },
        set: async () => true,
      },
    })
    expect(await ipc.invoke(IPC.autostartGet, OUR_PAGE)).toEqual(failure('internal', 'disk full'))
  })
})
