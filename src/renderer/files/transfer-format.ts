/**
 * How a file transfer reads in a conversation: sizes, rate and time left in
 * people's units, how far it is, and which buttons it offers in its state.
 * Pure: no DOM, no bridge.
 */
import type { FileTransferJson } from '../../shared/api/contract.js'

export type TransferAction = 'accept' | 'decline' | 'pause' | 'resume' | 'cancel' | 'save'

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** 1536 → "1.5 KB" (decimal digits only below 10). */
export function formatBytes(n: number): string {
  let v = n
  let u = 0
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024
    u++
  }
  const digits = u === 0 || v >= 10 ? 0 : 1
  return `${v.toFixed(digits)} ${UNITS[u]}`
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}

/** 42 → "42 s", 125 → "2 min 5 s", 7300 → "2 h 1 min". */
export function formatSecondsLeft(s: number): string {
  if (s < 60) return `${s} s`
  if (s < 3600) {
    const m = Math.floor(s / 60)
    const r = s % 60
    return r === 0 ? `${m} min` : `${m} min ${r} s`
  }
  const h = Math.floor(s / 3600)
  return `${h} h ${Math.floor((s % 3600) / 60)} min`
}

/** Whole per cent done, 0–100 (an empty file is done when complete). */
export function percentDone(t: Pick<FileTransferJson, 'bytesDone' | 'size' | 'status'>): number {
  if (t.status === 'complete' || t.status === 'mailed') return 100
  if (t.size === 0) return 0
  return Math.min(100, Math.floor((t.bytesDone * 100) / t.size))
}

/** Still moving or able to move (a bar is shown); false once it ended either way. */
export function isActive(t: Pick<FileTransferJson, 'status'>): boolean {
  return !['complete', 'mailed', 'declined', 'failed', 'cancelled'].includes(t.status)
}

/** The buttons a transfer offers in its state, in the order they are shown. */
export function actionsFor(t: Pick<FileTransferJson, 'direction' | 'status'>): TransferAction[] {
  if (t.direction === 'in') {
    switch (t.status) {
      case 'offered':
        return ['accept', 'decline']
      case 'receiving':
      case 'interrupted':
        return ['pause', 'cancel']
      case 'paused':
        return ['resume', 'cancel']
      case 'complete':
        return ['save']
      default:
        return []
    }
  }
  switch (t.status) {
    case 'preparing':
    case 'offering':
    case 'awaiting':
    case 'sending':
    case 'queued':
      return ['pause', 'cancel']
    case 'paused':
      return ['resume', 'cancel']
    default:
      // A sent file's uploaded copy is gone once it is over: the user has the original.
      return []
  }
}

// Shared with the desktop app's main process, which reads verified images back for previews.
export { PREVIEW_MAX_BYTES, isPreviewable } from '../../shared/files/preview-policy.js'
