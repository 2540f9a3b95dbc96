/**
 * Files dragged onto a conversation or pasted into its composer: the hook
 * gives the handlers to spread on the drop target, whether files are being
 * dragged over it (for the hint), and a paste handler that takes clipboard
 * files (a screenshot is pasted as an unnamed image: it gets a dated name).
 */
import { useRef, useState } from 'react'
import type { ClipboardEvent, DragEvent } from 'react'
import type { OutgoingFile } from '../files/files-controller.js'

const hasFiles = (e: DragEvent): boolean => Array.from(e.dataTransfer.types).includes('Files')

/** A pasted file's name: its own, or "pasted-<time>.<ext>" for a bare clipboard image. */
export function pastedName(file: File, now = new Date()): string {
  if (file.name !== '' && file.name !== 'image.png') return file.name
  const ext = /^image\/(png|jpeg|gif|webp)$/.exec(file.type)?.[1]?.replace('jpeg', 'jpg') ?? 'bin'
  const stamp = now.toISOString().replace(/[:.]/g, '-').slice(0, 19)
  return `pasted-${stamp}.${ext}`
}

export function useFileDrop(send: (files: OutgoingFile[]) => void) {
  const [dragging, setDragging] = useState(false)
  // dragenter/dragleave fire for every child: count them to know when the pointer left.
  const depth = useRef(0)
  return {
    dragging,
    handlers: {
      onDragEnter(e: DragEvent) {
        if (!hasFiles(e)) return
        e.preventDefault()
        depth.current++
        setDragging(true)
      },
      onDragOver(e: DragEvent) {
        if (!hasFiles(e)) return
        e.preventDefault()
        e.dataTransfer.dropEffect = 'copy'
      },
      onDragLeave(e: DragEvent) {
        if (!hasFiles(e)) return
        depth.current = Math.max(0, depth.current - 1)
        if (depth.current === 0) setDragging(false)
      },
      onDrop(e: DragEvent) {
        if (!hasFiles(e)) return
        e.preventDefault()
        depth.current = 0
        setDragging(false)
        const list = Array.from(e.dataTransfer.files, (f) => ({ blob: f, name: f.name }))
        if (list.length > 0) send(list)
      },
    },
    onPaste(e: ClipboardEvent) {
      const files = Array.from(e.clipboardData.files)
      if (files.length === 0) return // text: the textarea takes it
      e.preventDefault()
      send(files.map((f) => ({ blob: f, name: pastedName(f) })))
    },
  }
}
