/**
 * Small helpers the file-transfer modules share: hashes, byte comparison,
 * base64 for stored bitmaps and offers, and sizes for people.
 */
import { createHash } from 'node:crypto'
import { dirname } from 'node:path'

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

export function toB64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

export function fromB64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'))
}

/** Bytes as MiB with one decimal, for messages. */
export function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1)
}

export function dirOf(path: string): string {
  return dirname(path)
}
