/**
 * How transfers read in a conversation: sizes, rate and time left, the
 * buttons each state offers (Accept/Decline for an offer, Pause/Cancel while
 * moving, Resume when paused, Save once verified), the progress bar, the
 * preview, and the conversation's Send file button; a pasted screenshot's name.
 */
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import type { FileTransferJson } from '../../../src/shared/api/contract.js'
import type { AppServices } from '../../../src/renderer/app/create-app.js'
import { createStore } from '../../../src/renderer/base/store.js'
import type { FilesState } from '../../../src/renderer/files/files-controller.js'
import {
  actionsFor,
  formatBytes,
  formatRate,
  formatSecondsLeft,
  isPreviewable,
  percentDone,
} from '../../../src/renderer/files/transfer-format.js'
import { AppContext } from '../../../src/renderer/ui/app-context.js'
import { ConversationView } from '../../../src/renderer/ui/ConversationView.js'
import { pastedName } from '../../../src/renderer/ui/file-drop.js'
import { FileTransferItem } from '../../../src/renderer/ui/FileTransferItem.js'
import { transferJson } from './transfer-json.js'

/** A 3 MiB transfer (sizes and rates read in MB). */
const tr = (over: Partial<FileTransferJson>): FileTransferJson =>
  transferJson({ size: 3 * 1024 * 1024, ...over })

const app = (files: Partial<FilesState> = {}) =>
  ({
    win: globalThis,
    files: {
      store: createStore<FilesState>({
        transfers: {},
        previews: {},
        uploads: [],
        errors: {},
        ...files,
      }),
    },
    chat: {
      store: createStore({
        conversations: [],
        threads: { bob: { messages: [], local: [], loaded: true } },
        open: 'bob',
        listError: undefined,
      }),
    },
    contacts: {
      store: createStore({ contacts: [], loaded: true, error: undefined, offered: undefined }),
    },
  }) as unknown as AppServices

const item = (t: FileTransferJson, preview?: string): string =>
  renderToStaticMarkup(
    <AppContext.Provider value={app()}>
      <FileTransferItem tr={t} {...(preview != null ? { preview } : {})} />
    </AppContext.Provider>,
  )

const buttons = (html: string): string[] =>
  [...html.matchAll(/<button[^>]*>([^<]*)<\/button>/g)].map((m) => m[1]!)

describe('transfer format', () => {
  it('says sizes, rates and time left in people’s units', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(50 * 1024 * 1024)).toBe('50 MB')
    expect(formatRate(2.5 * 1024 * 1024)).toBe('2.5 MB/s')
    expect(formatSecondsLeft(42)).toBe('42 s')
    expect(formatSecondsLeft(120)).toBe('2 min')
    expect(formatSecondsLeft(125)).toBe('2 min 5 s')
    expect(formatSecondsLeft(7300)).toBe('2 h 1 min')
    expect(percentDone({ bytesDone: 50, size: 200, status: 'receiving' })).toBe(25)
    expect(percentDone({ bytesDone: 0, size: 0, status: 'complete' })).toBe(100)
    expect(isPreviewable('image/svg+xml', 10)).toBe(false)
    expect(isPreviewable('image/jpeg', 10)).toBe(true)
  })

  it('offers the buttons each state allows', () => {
    expect(actionsFor({ direction: 'in', status: 'offered' })).toEqual(['accept', 'decline'])
    expect(actionsFor({ direction: 'in', status: 'receiving' })).toEqual(['pause', 'cancel'])
    expect(actionsFor({ direction: 'in', status: 'paused' })).toEqual(['resume', 'cancel'])
    expect(actionsFor({ direction: 'in', status: 'complete' })).toEqual(['save'])
    expect(actionsFor({ direction: 'in', status: 'declined' })).toEqual([])
    expect(actionsFor({ direction: 'out', status: 'sending' })).toEqual(['pause', 'cancel'])
    expect(actionsFor({ direction: 'out', status: 'queued' })).toEqual(['pause', 'cancel'])
    expect(actionsFor({ direction: 'out', status: 'paused' })).toEqual(['resume', 'cancel'])
    expect(actionsFor({ direction: 'out', status: 'failed' })).toEqual([])
    expect(actionsFor({ direction: 'out', status: 'complete' })).toEqual([])
  })
})

describe('a transfer in the conversation', () => {
  it('shows an offer with Accept and Decline, and warns when the key is not pinned', () => {
    const html = item(tr({ verification: 'new' }))
    expect(html).toContain('bob offers a file')
    expect(html).toContain('cat.png')
    expect(html).toContain('3.0 MB')
    expect(buttons(html)).toEqual(['Accept', 'Decline'])
    expect(html).toContain('compare bob&#x27;s fingerprint')
    expect(html).not.toContain('<progress')
  })

  it('shows progress with the rate and time left while it moves', () => {
    const html = item(
      tr({ status: 'receiving', bytesDone: 1024 * 1024, rate: 512 * 1024, secondsLeft: 4 }),
    )
    expect(html).toMatch(/<progress value="1048576" max="3145728" aria-label="cat.png: 33 %"/)
    expect(html).toContain('512 KB/s, 4 s left')
    expect(buttons(html)).toEqual(['Pause', 'Cancel'])
  })

  it('shows a verified image with its preview and Save; a sent one as delivered', () => {
    const html = item(tr({ status: 'complete', bytesDone: 3145728 }), 'blob:http://x/1')
    expect(html).toContain(
      '<img class="file-preview" src="blob:http://x/1" alt="Preview of cat.png"',
    )
    expect(html).toContain('Received, checksum verified')
    expect(buttons(html)).toEqual(['Save'])
    const sent = item(tr({ direction: 'out', status: 'complete' }))
    expect(sent).toContain('Delivered, checksum verified')
    const paused = item(tr({ direction: 'out', status: 'paused', note: 'paused here' }))
    expect(buttons(paused)).toEqual(['Resume', 'Cancel'])
    expect(paused).toContain('paused here')
  })

  it('sits in the conversation among the messages, beside the Send file button', () => {
    const a = app({
      transfers: { ['1'.repeat(32)]: tr({}) },
      uploads: [{ key: 'u1', peer: 'bob', name: 'notes.pdf', size: 2048 }],
      errors: { bob: 'the file is larger than the 1 MiB this node sends' },
    })
    const html = renderToStaticMarkup(
      <AppContext.Provider value={a}>
        <ConversationView peer="bob" nav={{ call: () => {} } as never} />
      </AppContext.Provider>,
    )
    expect(buttons(html)).toContain('Send file')
    expect(html).toContain('type="file"')
    expect(html).toContain('bob offers a file')
    expect(html).toContain('Handing notes.pdf to your node…')
    expect(html).toContain('the file is larger than the 1 MiB this node sends')
    expect(html).not.toContain('No messages')
  })
})

describe('pasted files', () => {
  it('names a bare clipboard image after the time, and keeps a real name', () => {
    const at = new Date('2026-03-04T05:06:07.000Z')
    expect(pastedName(new File(['x'], 'image.png', { type: 'image/png' }), at)).toBe(
      'pasted-2026-03-04T05-06-07.png',
    )
    expect(pastedName(new File(['x'], '', { type: 'image/jpeg' }), at)).toBe(
      'pasted-2026-03-04T05-06-07.jpg',
    )
    expect(pastedName(new File(['x'], 'report.pdf'), at)).toBe('report.pdf')
  })
})
