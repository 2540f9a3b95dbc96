/**
 * Builds the signed offer for a file on disk: one streaming read hashes every
 * chunk and the whole file (flat memory for any size).
 */
import { createHash, randomBytes } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { InvalidInputError } from '../../shared/errors.js'
import {
  CHUNK_BYTES,
  MAX_FILE_BYTES,
  OFFER_ID_BYTES,
  chunkCount,
  signFileOffer,
} from '../../shared/files/file-offer.js'
import type { FileOffer } from '../../shared/files/file-offer.js'

const MIME: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.zip': 'application/zip',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
}

export function mimeOf(name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream'
}

export interface PrepareOptions {
  from: string
  to: string
  path: string
  accountKey: Ed25519PrivateKey
  /** The name shown to the receiver. @default the path's base name */
  name?: string
  /** @default CHUNK_BYTES */
  chunkSize?: number
}

export async function prepareOffer(opts: PrepareOptions): Promise<FileOffer> {
  const info = await stat(opts.path).catch((err: NodeJS.ErrnoException) => {
    throw new InvalidInputError(`cannot read ${opts.path}: ${err.code ?? err.message}`)
  })
  if (!info.isFile()) throw new InvalidInputError(`${opts.path} is not a file`)
  if (info.size > MAX_FILE_BYTES)
    throw new InvalidInputError(
      `${opts.path} is larger than the ${MAX_FILE_BYTES} bytes Kaiwa sends`,
    )
  const chunkSize = opts.chunkSize ?? CHUNK_BYTES
  const n = chunkCount(info.size, chunkSize)
  const chunks = new Uint8Array(n * 32)
  const whole = createHash('sha256')
  const fh = await open(opts.path, 'r')
  try {
    const buf = new Uint8Array(chunkSize)
    for (let i = 0; i < n; i++) {
      const len = Math.min(chunkSize, info.size - i * chunkSize)
      let off = 0
      while (off < len) {
        const { bytesRead } = await fh.read(buf, off, len - off, i * chunkSize + off)
        if (bytesRead === 0) throw new InvalidInputError(`${opts.path} shrank while it was read`)
        off += bytesRead
      }
      const data = buf.subarray(0, len)
      whole.update(data)
      chunks.set(createHash('sha256').update(data).digest(), i * 32)
    }
  } finally {
    await fh.close()
  }
  const name = opts.name ?? basename(opts.path)
  return signFileOffer(
    {
      v: 1,
      id: new Uint8Array(randomBytes(OFFER_ID_BYTES)),
      from: opts.from,
      to: opts.to,
      senderKey: new Uint8Array(opts.accountKey.publicKey.raw),
      name,
      mime: mimeOf(name),
      size: info.size,
      sha256: new Uint8Array(whole.digest()),
      chunkSize,
      chunks,
      createdAt: Date.now(),
    },
    opts.accountKey,
  )
}
