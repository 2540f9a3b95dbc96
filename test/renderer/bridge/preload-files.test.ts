/**
 * Files in the desktop app: a picked or dropped file goes to the node as its
 * path on disk (the preload's webUtils), validated against the contract; a
 * file with no path (pasted) is refused with a clear error, never sent some
 * other way; previews and Save go to the main process by transfer id.
 */
import { describe, expect, it } from 'vitest'
import type { PreloadApi } from '../../../src/shared/api/bridge.js'
import { createPreloadFiles } from '../../../src/renderer/bridge/preload-files.js'

function fake(reply: unknown) {
  const calls: Array<[string, unknown]> = []
  const api = {
    call: async (method: string, input: unknown) => {
      calls.push([method, input])
      return reply
    },
    desktop: { filePath: (f: File) => (f.name === 'pasted.png' ? '' : `/home/me/${f.name}`) },
  } as unknown as PreloadApi
  return { api, calls }
}

const transfer = {
  id: '1'.repeat(32),
  direction: 'out',
  peer: 'bob',
  name: 'a.txt',
  mime: 'text/plain',
  size: 1,
  sha256: '00',
  status: 'offering',
  note: null,
  bytesDone: 0,
  rate: 0,
  secondsLeft: null,
  path: '/home/me/a.txt',
  createdAt: '2026-01-01T00:00:00.000Z',
}

describe('desktop file bytes', () => {
  it('hands the node the picked file by its path', async () => {
    const { api, calls } = fake({ transfer })
    const out = await createPreloadFiles(api).send('bob', new File(['x'], 'a.txt'), 'a.txt')
    expect(out.id).toBe('1'.repeat(32))
    expect(calls).toEqual([['sendFile', { to: 'bob', path: '/home/me/a.txt' }]])
  })

  it('refuses a file that is only in memory, a broken answer, and content', async () => {
    const { api, calls } = fake({ transfer: { nope: 1 } })
    const files = createPreloadFiles(api)
    await expect(files.send('bob', new File(['x'], 'pasted.png'), 'x.png')).rejects.toMatchObject({
      code: 'invalid_input',
    })
    await expect(files.send('bob', new Blob(['x']), 'x.bin')).rejects.toMatchObject({
      code: 'invalid_input',
    })
    expect(calls).toEqual([])
    await expect(files.send('bob', new File(['x'], 'a.txt'), 'a.txt')).rejects.toMatchObject({
      code: 'invalid_reply',
    })
  })

  it('asks the main process for previews and Save by transfer id only', async () => {
    const asked: Array<[string, string]> = []
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47])
    const api = {
      desktop: {
        filePreview: async (id: string) => {
          asked.push(['preview', id])
          return png
        },
        saveFile: async (id: string) => {
          asked.push(['save', id])
          return id === '1'.repeat(32) ? '/home/me/Downloads/a.png' : null
        },
      },
    } as unknown as PreloadApi
    const files = createPreloadFiles(api)
    const blob = await files.content('1'.repeat(32))
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(png)
    expect(await files.save!('1'.repeat(32))).toBe(true)
    expect(await files.save!('2'.repeat(32))).toBe(false)
    expect(asked).toEqual([
      ['preview', '1'.repeat(32)],
      ['save', '1'.repeat(32)],
      ['save', '2'.repeat(32)],
    ])
  })

  it('passes the main process refusal on with its code, and refuses odd answers', async () => {
    const api = {
      desktop: {
        filePreview: async () => {
          throw new Error('[conflict] the file changed on disk')
        },
        saveFile: async () => 42,
      },
    } as unknown as PreloadApi
    const files = createPreloadFiles(api)
    await expect(files.content('1'.repeat(32))).rejects.toMatchObject({ code: 'conflict' })
    await expect(files.save!('1'.repeat(32))).rejects.toMatchObject({ code: 'invalid_reply' })
  })
})
