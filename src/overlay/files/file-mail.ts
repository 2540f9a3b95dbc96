/**
 * Small files for offline recipients go through the mailbox, sealed like
 * offline mail (shared/mail/sealed-mail.ts): the file is cut into parts that
 * each fit one mail, and every part carries the signed offer, so the receiver
 * checks the sender, the size and the hashes exactly as for a direct transfer
 * and files the parts by the offer's id whatever order they arrive in.
 */
import { readFile } from 'node:fs/promises'
import { decode, encode } from 'cborg'
import { STRICT_DECODE } from '../../shared/cbor-strict.js'
import { KaiwaError } from '../../shared/errors.js'
import { MAX_OFFER_BYTES } from '../../shared/files/file-offer.js'
import type { FileOffer } from '../../shared/files/file-offer.js'
import type { MailPlaintext } from '../../shared/mail/sealed-mail.js'
import { equalBytes, sha256 } from './file-util.js'

/** The Content-Type of a mail that carries a part of a file. */
export const FILE_MAIL_CONTENT_TYPE = 'application/vnd.kaiwa.file-part+cbor'
/** File bytes per mail: with the offer and sealing it stays under the 64 KiB mail cap. */
export const PART_BYTES = 48 * 1024
const MAX_PARTS = 64

export interface FilePart {
  offer: Uint8Array
  index: number
  count: number
  data: Uint8Array
}

export class InvalidFilePartError extends KaiwaError {
  constructor(reason: string) {
    super(`invalid file part: ${reason}`, 'invalid_input')
    this.name = 'InvalidFilePartError'
  }
}

export function partCount(size: number): number {
  return Math.max(1, Math.ceil(size / PART_BYTES))
}

export function encodeFilePart(part: FilePart): Uint8Array {
  return encode(part)
}

export function decodeFilePart(body: Uint8Array): FilePart {
  let v: unknown
  try {
    v = decode(body, STRICT_DECODE)
  } catch (err) {
    throw new InvalidFilePartError((err as Error).message)
  }
  const p = v as Record<string, unknown>
  if (typeof v !== 'object' || v === null || Object.keys(p).length !== 4)
    throw new InvalidFilePartError('not a part map')
  const { offer, index, count, data } = p
  if (!(offer instanceof Uint8Array) || offer.length > MAX_OFFER_BYTES)
    throw new InvalidFilePartError('offer')
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > MAX_PARTS)
    throw new InvalidFilePartError('count')
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new InvalidFilePartError('index')
  if (!(data instanceof Uint8Array) || data.length > PART_BYTES)
    throw new InvalidFilePartError('data')
  return { offer, index, count, data }
}

/** The mails (plaintexts, to be sealed) that carry a whole small file. */
export async function fileMails(
  offer: FileOffer,
  offerBytes: Uint8Array,
  path: string,
  fromUri: string,
): Promise<MailPlaintext[]> {
  const bytes = new Uint8Array(await readFile(path))
  if (bytes.length !== offer.size || !equalBytes(sha256(bytes), offer.sha256))
    throw new KaiwaError(`${path} changed since it was offered`, 'conflict')
  const count = partCount(offer.size)
  const date = new Date().toUTCString()
  return Array.from({ length: count }, (_, index) => ({
    from: offer.from,
    fromUri,
    date,
    contentType: FILE_MAIL_CONTENT_TYPE,
    body: encodeFilePart({
      offer: offerBytes,
      index,
      count,
      data: bytes.subarray(index * PART_BYTES, (index + 1) * PART_BYTES),
    }),
  }))
}
