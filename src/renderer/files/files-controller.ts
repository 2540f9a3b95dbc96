/**
 * File transfer in the UI (issue 15 §1): every transfer the node keeps, in
 * both directions, live through the node's `transfer` event (state changes,
 * and progress each second while a file moves); sending what the user picked,
 * dropped or pasted (its bytes go to the node through `bridge.files`);
 * answering offers; pause, resume, cancel; image previews made here
 * (thumbnail.ts) from the file sent, or from the received file once its whole
 * hash matched.
 */
import type { KaiwaBridge } from '../../shared/api/bridge.js'
import type { FileTransferJson } from '../../shared/api/contract.js'
import { toApiError } from '../bridge/api-error.js'
import { createStore } from '../base/store.js'
import type { Store } from '../base/store.js'
import { t } from '../i18n/t.js'
import type { Thumbnailer } from './thumbnail.js'
import { isPreviewable } from './transfer-format.js'

/** A file on its way from the page to the node, before the node names a transfer. */
export interface Upload {
  key: string
  peer: string
  name: string
  size: number
}

export interface FilesState {
  transfers: Record<string, FileTransferJson>
  /** blob: URLs of image previews, by transfer id. */
  previews: Record<string, string>
  uploads: Upload[]
  /** The last failure per peer, in the node's words. */
  errors: Record<string, string>
}

/** A file from a picker, a drop or the clipboard (a File, or a Blob with the name to give it). */
export interface OutgoingFile {
  blob: Blob
  name: string
}

export interface FilesController {
  store: Store<FilesState>
  refresh(): Promise<void>
  /** Transfers with `peer`, oldest first. */
  forPeer(peer: string): FileTransferJson[]
  send(peer: string, files: OutgoingFile[]): Promise<void>
  accept(id: string): Promise<void>
  decline(id: string): Promise<void>
  pause(id: string): Promise<void>
  resume(id: string): Promise<void>
  cancel(id: string): Promise<void>
  /** The file's bytes from the node (to save or open it). */
  content(id: string): Promise<Blob>
  /**
   * Save a received file with the host's own Save (the desktop app's save-as
   * dialog): `none` when the host has none and the page saves `content(id)`.
   */
  hostSave(id: string): Promise<'saved' | 'cancelled' | 'none'>
  clearError(peer: string): void
  dispose(): void
}

export interface FilesControllerDeps {
  bridge: KaiwaBridge
  thumbnail: Thumbnailer
  /** Let go of a preview URL (URL.revokeObjectURL). */
  revoke: (url: string) => void
}

/** The type the node gives a name (prepare-offer.ts), for previews made before it answers. */
export function imageMimeOf(name: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase()
  const types: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    webp: 'image/webp',
  }
  return (ext != null ? types[ext] : undefined) ?? 'application/octet-stream'
}

export function createFilesController(deps: FilesControllerDeps): FilesController {
  const { bridge } = deps
  const store = createStore<FilesState>({ transfers: {}, previews: {}, uploads: [], errors: {} })
  /** Previews asked for (made, failed or under way): each transfer is tried once. */
  const tried = new Set<string>()
  let disposed = false
  let uploadSeq = 0

  const setError = (peer: string, err: unknown): void =>
    store.set((s) => ({ ...s, errors: { ...s.errors, [peer]: toApiError(err).message } }))

  const setPreview = (id: string, url: string): void => {
    if (disposed) return deps.revoke(url)
    store.set((s) => ({ ...s, previews: { ...s.previews, [id]: url } }))
  }

  /** A preview from the node's copy: a received image once verified, or a sent one after a reload. */
  let previewQueue: Promise<void> = Promise.resolve()
  function maybePreview(tr: FileTransferJson): void {
    if (tried.has(tr.id) || bridge.files == null || !isPreviewable(tr.mime, tr.size)) return
    if (tr.status !== 'complete' && tr.direction === 'in') return
    if (tr.path == null) return
    tried.add(tr.id)
    const files = bridge.files
    // One at a time: a conversation full of photos must not fetch them all at once.
    previewQueue = previewQueue.then(async () => {
      if (disposed) return
      try {
        setPreview(tr.id, await deps.thumbnail(await files.content(tr.id)))
      } catch {
        // Not an image after all, or gone from disk: the row shows the name only.
      }
    })
  }

  function merge(list: FileTransferJson[]): void {
    store.set((s) => {
      const transfers = { ...s.transfers }
      for (const tr of list) transfers[tr.id] = tr
      return { ...s, transfers }
    })
    for (const tr of list) maybePreview(tr)
  }

  async function refresh(): Promise<void> {
    try {
      merge((await bridge.call('transfers', {})).transfers)
    } catch {
      // Shown again on the next event or reconnect.
    }
  }

  const offEvents = bridge.onEvent((e) => {
    if (e.event === 'transfer') merge([e.data])
  })
  let wasDown = false
  const offConnection = bridge.onConnection((state) => {
    if (state !== 'open') wasDown = true
    else if (wasDown) {
      wasDown = false
      void refresh()
    }
  })

  async function sendOne(peer: string, file: OutgoingFile): Promise<void> {
    const files = bridge.files
    if (files == null) throw new Error(t('files.noUpload'))
    const key = `u${++uploadSeq}`
    const upload: Upload = { key, peer, name: file.name, size: file.blob.size }
    store.set((s) => ({ ...s, uploads: [...s.uploads, upload] }))
    // The preview is made from the picked file at once, while it uploads.
    const image = isPreviewable(file.blob.type || imageMimeOf(file.name), 0)
    const preview = image ? deps.thumbnail(file.blob).catch(() => undefined) : undefined
    try {
      const transfer = await files.send(peer, file.blob, file.name)
      tried.add(transfer.id)
      merge([transfer])
      const url = await preview
      if (url != null) setPreview(transfer.id, url)
    } finally {
      store.set((s) => ({ ...s, uploads: s.uploads.filter((u) => u.key !== key) }))
    }
  }

  const act =
    (method: 'fileAccept' | 'fileDecline' | 'filePause' | 'fileResume' | 'fileCancel') =>
    async (id: string): Promise<void> => {
      const peer = store.get().transfers[id]?.peer ?? ''
      try {
        merge([(await bridge.call(method, { id })).transfer])
      } catch (err) {
        setError(peer, err)
      }
    }

  return {
    store,
    refresh,
    forPeer: (peer) =>
      Object.values(store.get().transfers)
        .filter((tr) => tr.peer === peer)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    async send(peer, list) {
      this.clearError(peer)
      for (const file of list) {
        try {
          await sendOne(peer, file)
        } catch (err) {
          setError(peer, err)
        }
      }
    },
    accept: act('fileAccept'),
    decline: act('fileDecline'),
    pause: act('filePause'),
    resume: act('fileResume'),
    cancel: act('fileCancel'),
    async content(id) {
      if (bridge.files == null) throw new Error(t('files.noUpload'))
      return bridge.files.content(id)
    },
    async hostSave(id) {
      const files = bridge.files
      if (files?.save == null) return 'none'
      return (await files.save(id)) ? 'saved' : 'cancelled'
    },
    clearError(peer) {
      if (store.get().errors[peer] == null) return
      store.set((s) => {
        const errors = { ...s.errors }
        delete errors[peer]
        return { ...s, errors }
      })
    },
    dispose() {
      disposed = true
      offEvents()
      offConnection()
      for (const url of Object.values(store.get().previews)) deps.revoke(url)
    },
  }
}
