/** Small helpers of UserDirectory (user-directory.ts): record checks, signals, error kinds. */
import { hash } from 'node:crypto'
import { validateContactRecord } from '../../shared/records/record-policy.js'
import { peerIdFromBytes } from '../../shared/records/contact-record.js'

export async function isValid(
  key: Uint8Array,
  bytes: Uint8Array,
  now: number,
  powBits: number,
): Promise<boolean> {
  try {
    await validateContactRecord(key, bytes, now, { powBits })
    return true
  } catch {
    return false
  }
}

/** Node's one-shot native SHA-256, for minting stamps (checking uses the portable one). */
export function nativeSha256(data: Uint8Array): Uint8Array {
  return hash('sha256', data, 'buffer')
}

export function combineSignals(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs)
  return signal == null ? t : AbortSignal.any([signal, t])
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')
}

export function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'NotFoundError'
}

/** A record device's peer id as a string; '' when the bytes are not a peer id. */
export function peerString(bytes: Uint8Array): string {
  try {
    return peerIdFromBytes(bytes).toString()
  } catch {
    return ''
  }
}
