/** A file transfer as the node's API shows it (FileTransferJson), for the renderer's file tests. */
import type { FileTransferJson } from '../../../src/shared/api/contract.js'

/** An offered 1000-byte cat.png from bob, with `over` on top. */
export const transferJson = (over: Partial<FileTransferJson>): FileTransferJson => ({
  id: '1'.repeat(32),
  direction: 'in',
  peer: 'bob',
  name: 'cat.png',
  mime: 'image/png',
  size: 1000,
  sha256: 'ab'.repeat(32),
  status: 'offered',
  note: null,
  bytesDone: 0,
  rate: 0,
  secondsLeft: null,
  path: null,
  createdAt: '2026-01-01T10:00:00.000Z',
  ...over,
})
