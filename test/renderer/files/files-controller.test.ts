/**
 * File transfer in the UI over a scripted bridge: sending hands the file's
 * bytes to `bridge.files` (never JSON), makes the preview from the picked
 * image at once, and shows the upload until the node names the transfer;
 * transfers stay live through the `transfer` event; received images get a
 * preview from the node's copy only once verified; answers go to the node
 * and a refusal is said in its words. Also the web bridge's byte routes.
 */
import { describe, expect, it } from 'vitest'
import type { FileBytes, KaiwaBridge } from '../../../src/shared/api/bridge.js'
import type { ApiEvent, FileTransferJson } from '../../../src/shared/api/contract.js'
import { createFilesController, imageMimeOf } from '../../../src/renderer/files/files-controller.js'
import { createWebFiles } from '../../../src/renderer/bridge/web-files.js'
import { ApiError } from '../../../src/renderer/bridge/api-error.js'
import { transferJson } from './transfer-json.js'

const tr = transferJson

function fakeBridge(opts: { files?: boolean; fail?: string } = {}) {
  const calls: Array<[string, unknown]> = []
  const uploads: Array<{ to: string; blob: Blob; name: string }> = []
  const fetched: string[] = []
  let listener: ((e: ApiEvent) => void) | undefined
  let release: (() => void) | undefined
  const files: FileBytes = {
    async send(to, blob, name) {
      uploads.push({ to, blob, name })
      await new Promise<void>((r) => (release = r))
      return tr({ id: '2'.repeat(32), direction: 'out', peer: to, name, status: 'offering' })
    },
    async content(id) {
      fetched.push(id)
      return new Blob(['png bytes'], { type: 'image/png' })
    },
  }
  const bridge = {
    call: async (method: string, input: { id?: string }) => {
      calls.push([method, input])
      if (opts.fail != null) throw new ApiError('conflict', opts.fail)
      if (method === 'transfers') return { transfers: [tr({})] }
      const status: Record<string, FileTransferJson['status']> = {
        fileAccept: 'receiving',
        fileDecline: 'declined',
        filePause: 'paused',
      }
      return {
        transfer: tr({ status: status[method] ?? 'receiving' }),
      }
    },
    onEvent: (l: (e: ApiEvent) => void) => {
      listener = l
      return () => {}
    },
    onConnection: () => () => {},
    ...(opts.files === false ? {} : { files }),
  } as unknown as KaiwaBridge
  return {
    bridge,
    calls,
    uploads,
    fetched,
    emit: (e: ApiEvent) => listener?.(e),
    finishUpload: () => release?.(),
  }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

function controller(b: ReturnType<typeof fakeBridge>) {
  const thumbs: Blob[] = []
  const revoked: string[] = []
  const files = createFilesController({
    bridge: b.bridge,
    thumbnail: async (blob) => {
      thumbs.push(blob)
      return `blob:thumb-${thumbs.length}`
    },
    revoke: (url) => revoked.push(url),
  })
  return { files, thumbs, revoked }
}

describe('files controller', () => {
  it('hands a picked file to the node as bytes and previews the image while it uploads', async () => {
    const b = fakeBridge()
    const { files, thumbs } = controller(b)
    const photo = new Blob([new Uint8Array(5000)], { type: 'image/png' })
    const sending = files.send('bob', [{ blob: photo, name: 'holiday.png' }])
    await tick()
    expect(b.uploads).toEqual([{ to: 'bob', blob: photo, name: 'holiday.png' }])
    expect(files.store.get().uploads).toEqual([
      { key: 'u1', peer: 'bob', name: 'holiday.png', size: 5000 },
    ])
    expect(thumbs[0]).toBe(photo) // made from the picked file, not fetched back
    b.finishUpload()
    await sending
    const s = files.store.get()
    expect(s.uploads).toEqual([])
    expect(s.transfers['2'.repeat(32)]?.status).toBe('offering')
    expect(s.previews['2'.repeat(32)]).toBe('blob:thumb-1')
    expect(b.fetched).toEqual([])
    expect(b.calls.filter(([m]) => m === 'sendFile')).toEqual([]) // no path, no JSON bytes
  })

  it('keeps transfers live from events and previews a received image once verified', async () => {
    const b = fakeBridge()
    const { files } = controller(b)
    await files.refresh()
    expect(files.forPeer('bob').map((x) => x.status)).toEqual(['offered'])
    b.emit({ event: 'transfer', data: tr({ status: 'receiving', bytesDone: 500, rate: 100 }) })
    expect(files.forPeer('bob')[0]?.bytesDone).toBe(500)
    await tick()
    expect(b.fetched).toEqual([]) // not verified yet: nothing shown from it
    b.emit({
      event: 'transfer',
      data: tr({ status: 'complete', bytesDone: 1000, path: '/home/bob/Downloads/cat.png' }),
    })
    await tick()
    await tick()
    expect(b.fetched).toEqual(['1'.repeat(32)])
    expect(files.store.get().previews['1'.repeat(32)]).toBe('blob:thumb-1')
    // Once per transfer, however many events follow.
    b.emit({ event: 'transfer', data: tr({ status: 'complete', path: '/x/cat.png' }) })
    await tick()
    expect(b.fetched).toHaveLength(1)
    expect(files.forPeer('alice')).toEqual([])
  })

  it('never fetches a preview of what is not a raster image, or too large', async () => {
    const b = fakeBridge()
    const { files } = controller(b)
    b.emit({
      event: 'transfer',
      data: tr({ id: '3'.repeat(32), mime: 'image/svg+xml', status: 'complete', path: '/x.svg' }),
    })
    b.emit({
      event: 'transfer',
      data: tr({ id: '4'.repeat(32), size: 900 * 1024 * 1024, status: 'complete', path: '/y.png' }),
    })
    await tick()
    expect(b.fetched).toEqual([])
    files.dispose()
  })

  it('sends answers to the node and says a refusal in its words', async () => {
    const b = fakeBridge()
    const { files } = controller(b)
    await files.refresh()
    await files.accept('1'.repeat(32))
    await files.pause('1'.repeat(32))
    await files.decline('1'.repeat(32))
    expect(b.calls.slice(1)).toEqual([
      ['fileAccept', { id: '1'.repeat(32) }],
      ['filePause', { id: '1'.repeat(32) }],
      ['fileDecline', { id: '1'.repeat(32) }],
    ])
    expect(files.forPeer('bob')[0]?.status).toBe('declined')

    const refused = fakeBridge({ fail: 'incoming file is complete' })
    const c = controller(refused).files
    refused.emit({ event: 'transfer', data: tr({}) })
    await c.resume('1'.repeat(32))
    expect(c.store.get().errors).toEqual({ bob: 'incoming file is complete' })
    c.clearError('bob')
    expect(c.store.get().errors).toEqual({})
  })

  it('says so when the host cannot carry file bytes', async () => {
    const b = fakeBridge({ files: false })
    const { files } = controller(b)
    await files.send('bob', [{ blob: new Blob(['x']), name: 'a.txt' }])
    expect(files.store.get().errors.bob).toBe('This app cannot hand files to its node yet.')
  })

  it("saves through the host's own Save where it has one (the desktop dialog)", async () => {
    const web = controller(fakeBridge())
    expect(await web.files.hostSave('1'.repeat(32))).toBe('none')
    const b = fakeBridge()
    const asked: string[] = []
    const bytes = (b.bridge as { files: FileBytes }).files
    bytes.save = async (id) => {
      asked.push(id)
      return asked.length === 1
    }
    const desktop = controller(b)
    expect(await desktop.files.hostSave('1'.repeat(32))).toBe('saved')
    expect(await desktop.files.hostSave('1'.repeat(32))).toBe('cancelled')
    expect(asked).toEqual(['1'.repeat(32), '1'.repeat(32)])
    expect(b.fetched).toEqual([]) // the bytes never came to the page
  })

  it('revokes its previews when disposed', async () => {
    const b = fakeBridge()
    const { files, revoked } = controller(b)
    b.emit({ event: 'transfer', data: tr({ status: 'complete', path: '/x/cat.png' }) })
    await tick()
    await tick()
    files.dispose()
    expect(revoked).toEqual(['blob:thumb-1'])
  })

  it('knows image types by name the way the node does', () => {
    expect(imageMimeOf('A.JPG')).toBe('image/jpeg')
    expect(imageMimeOf('x.webp')).toBe('image/webp')
    expect(imageMimeOf('x.svg')).toBe('application/octet-stream')
    expect(imageMimeOf('noext')).toBe('application/octet-stream')
  })
})

describe('web bridge file bytes', () => {
  it('streams the upload as the body with the token, and reads errors in the node’s words', async () => {
    const seen: Array<{ url: string; init: RequestInit }> = []
    let answer: Response = new Response(JSON.stringify({ transfer: tr({ direction: 'out' }) }))
    const web = createWebFiles({
      baseUrl: 'http://127.0.0.1:4000/',
      token: 'T0K',
      fetch: (async (url: string, init: RequestInit) => {
        seen.push({ url, init })
        return answer
      }) as typeof fetch,
    })
    const blob = new Blob(['hello'])
    const out = await web.send('bob', blob, 'a b.txt')
    expect(out.direction).toBe('out')
    expect(seen[0]!.url).toBe('http://127.0.0.1:4000/api/v1/file-upload?to=bob&name=a+b.txt')
    expect(seen[0]!.init.body).toBe(blob)
    expect((seen[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer T0K')

    answer = new Response(
      JSON.stringify({ error: { code: 'too_large', message: 'the file is larger than 1 MiB' } }),
      { status: 413 },
    )
    await expect(web.send('bob', blob, 'x')).rejects.toMatchObject({
      code: 'too_large',
      message: 'the file is larger than 1 MiB',
    })
    answer = new Response('png', { headers: { 'content-type': 'image/png' } })
    const got = await web.content('1'.repeat(32))
    expect(await got.text()).toBe('png')
    expect(seen.at(-1)!.url).toBe(`http://127.0.0.1:4000/api/v1/file-content/${'1'.repeat(32)}`)
  })
})
