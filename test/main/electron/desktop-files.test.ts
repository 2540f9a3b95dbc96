/**
 * Save and previews of received files in the desktop app
 * (src/main/electron/desktop-files.ts), with real files on disk and the
 * save-as dialog mocked (Electron cannot run here): only a file the node
 * lists as received and verified is saved or previewed, the bytes handed on
 * are hashed against its SHA-256 again (a file changed on disk since is
 * refused and nothing is left at the chosen path), a cancelled dialog saves
 * nothing, and the IPC channels refuse other pages and anything but a
 * transfer id.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IPC } from '../../../src/shared/api/bridge.js'
import type { FileTransferJson } from '../../../src/shared/api/contract.js'
import { CallGate } from '../../../src/main/electron/call-gate.js'
import { createDesktopFiles } from '../../../src/main/electron/desktop-files.js'
import { registerIpcHandlers } from '../../../src/main/electron/ipc-handlers.js'
import type { IpcMainLike } from '../../../src/main/electron/ipc-handlers.js'
import { failure, ok } from '../../../src/main/electron/ipc-validation.js'
import { MediaGate } from '../../../src/main/electron/media-gate.js'
import { FakeIpcMain, OUR_PAGE, quietLogger } from './fakes/electron-fakes.js'

let dir: string
const hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(4096)])
const doc = randomBytes(3 * 1024 * 1024 + 17)

function transfer(over: Partial<FileTransferJson>): FileTransferJson {
  return {
    id: 'a'.repeat(32),
    direction: 'in',
    peer: 'alice',
    name: 'photo.png',
    mime: 'image/png',
    size: png.length,
    sha256: hex(png),
    status: 'complete',
    note: null,
    bytesDone: png.length,
    rate: 0,
    secondsLeft: null,
    path: null,
    createdAt: '2026-12-03T07:00:00.000Z',
    ...over,
  }
}

let list: FileTransferJson[] = []
let picked: string | undefined
const dialogs: string[] = []
const files = () =>
  createDesktopFiles({
    call: async (method) =>
      method === 'transfers' ? ok({ transfers: list }) : failure('not_found', method),
    saveDialog: async (name) => {
      dialogs.push(name)
      return picked
    },
    log: quietLogger(),
  })

const PHOTO = 'a'.repeat(32)
const DOC = 'b'.repeat(32)
const HALF = 'c'.repeat(32)
const SENT = 'd'.repeat(32)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hf2-desktop-files-'))
  await writeFile(join(dir, 'photo.png'), png)
  await writeFile(join(dir, 'report.pdf'), doc)
  list = [
    transfer({ id: PHOTO, path: join(dir, 'photo.png') }),
    transfer({
      id: DOC,
      name: 'report.pdf',
      mime: 'application/pdf',
      size: doc.length,
      sha256: hex(doc),
      path: join(dir, 'report.pdf'),
    }),
    transfer({ id: HALF, status: 'receiving', path: null }),
    transfer({ id: SENT, direction: 'out', path: join(dir, 'photo.png') }),
  ]
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('desktop Save', () => {
  it('copies a verified file to the picked path, offering its name', async () => {
    picked = join(dir, 'saved report.pdf')
    const reply = await files().save(DOC)
    expect(reply).toEqual(ok(picked))
    expect(dialogs.at(-1)).toBe('report.pdf')
    expect(hex(await readFile(picked))).toBe(hex(doc))
  })

  it('saves nothing when the dialog is cancelled', async () => {
    picked = undefined
    const before = await readdir(dir)
    expect(await files().save(DOC)).toEqual(ok(null))
    expect(await readdir(dir)).toEqual(before)
  })

  it('refuses a file not received and verified, a sent one, and an unknown id', async () => {
    picked = join(dir, 'never.bin')
    expect(await files().save(HALF)).toMatchObject({ ok: false, error: { code: 'conflict' } })
    expect(await files().save(SENT)).toMatchObject({ ok: false, error: { code: 'conflict' } })
    expect(await files().save('e'.repeat(32))).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    })
    expect(await readdir(dir)).not.toContain('never.bin')
  })

  it('refuses a file changed on disk since it was verified, leaving nothing at the path', async () => {
    const path = join(dir, 'changed.pdf')
    const changed = Buffer.from(doc)
    changed[1000] = changed[1000]! ^ 1
    await writeFile(path, changed)
    list.push(
      transfer({
        id: 'f'.repeat(32),
        name: 'changed.pdf',
        sha256: hex(doc),
        size: doc.length,
        path,
      }),
    )
    picked = join(dir, 'copy of changed.pdf')
    const reply = await files().save('f'.repeat(32))
    expect(reply).toMatchObject({ ok: false, error: { code: 'conflict' } })
    const left = await readdir(dir)
    expect(left).not.toContain('copy of changed.pdf')
    expect(left.filter((n) => n.includes('kaiwa-saving'))).toEqual([])
  })
})

describe('desktop previews', () => {
  it('hands over the bytes of a verified image, received or sent', async () => {
    for (const id of [PHOTO, SENT]) {
      const reply = await files().preview(id)
      expect(reply.ok).toBe(true)
      if (reply.ok) expect(hex(reply.result)).toBe(hex(png))
    }
  })

  it('refuses what is not a previewable, verified image, or changed since', async () => {
    expect(await files().preview(DOC)).toMatchObject({ error: { code: 'invalid_input' } })
    expect(await files().preview(HALF)).toMatchObject({ error: { code: 'conflict' } })
    const path = join(dir, 'grown.png')
    await writeFile(path, Buffer.concat([png, Buffer.from([0])]))
    list.push(transfer({ id: '9'.repeat(32), path }))
    expect(await files().preview('9'.repeat(32))).toMatchObject({ error: { code: 'conflict' } })
    list.push(transfer({ id: '8'.repeat(32), path: join(dir, 'gone.png') }))
    expect(await files().preview('8'.repeat(32))).toMatchObject({ error: { code: 'not_found' } })
  })
})

describe('the file IPC channels', () => {
  function setup(withFiles: boolean) {
    const ipc = new FakeIpcMain()
    const gate = new CallGate()
    registerIpcHandlers({
      ipcMain: ipc as unknown as IpcMainLike,
      windowContentsId: () => 1,
      call: async () => ok({}),
      pipes: { open: async () => 1, send: () => true, close: () => {} },
      calls: gate,
      media: new MediaGate(() => gate.active),
      notify: () => {},
      autostart: undefined,
      ...(withFiles ? { files: files() } : {}),
      log: quietLogger(),
    })
    return ipc
  }

  it('serve our page by transfer id', async () => {
    const ipc = setup(true)
    const reply = (await ipc.invoke(IPC.filePreview, OUR_PAGE, PHOTO)) as { ok: boolean }
    expect(reply.ok).toBe(true)
    picked = undefined
    expect(await ipc.invoke(IPC.fileSave, OUR_PAGE, DOC)).toEqual(ok(null))
  })

  it('refuse other pages, paths and extra arguments', async () => {
    const ipc = setup(true)
    const other = { ...OUR_PAGE, sender: { id: 2 } }
    expect(await ipc.invoke(IPC.fileSave, other, DOC)).toMatchObject({
      error: { code: 'forbidden' },
    })
    for (const args of [[join(dir, 'report.pdf')], ['../../etc/passwd'], [DOC, '/tmp/x'], []]) {
      expect(await ipc.invoke(IPC.fileSave, OUR_PAGE, ...args)).toMatchObject({
        error: { code: 'invalid_input' },
      })
      expect(await ipc.invoke(IPC.filePreview, OUR_PAGE, ...args)).toMatchObject({
        error: { code: 'invalid_input' },
      })
    }
  })

  it('say so where the app cannot save files', async () => {
    const ipc = setup(false)
    expect(await ipc.invoke(IPC.fileSave, OUR_PAGE, DOC)).toMatchObject({
      error: { code: 'unavailable' },
    })
  })
})
