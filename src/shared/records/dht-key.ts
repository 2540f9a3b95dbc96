/**
 * DHT keys for contact records. The key is `/kaiwa-user/<name>`: the leading
 * namespace lets a kad-dht node route the key to our record validator and
 * selector (libp2p picks validators by the first path segment).
 */
import { InvalidRecordError } from '../errors.js'
import { isValidUserId, normalizeUserId } from '../user-id.js'

export const USER_RECORD_NAMESPACE = 'kaiwa-user'

const PREFIX = `/${USER_RECORD_NAMESPACE}/`
// TextEncoder/TextDecoder are globals in browsers and Node alike, and return plain Uint8Arrays.
const utf8 = new TextEncoder()
// fatal: invalid UTF-8 throws instead of becoming U+FFFD; ignoreBOM: a leading BOM is kept (and
// then fails the prefix check) instead of being silently stripped, so decoding is one-to-one.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The DHT key for a user ID; the name is normalised first (throws InvalidUserIdError). */
export function userRecordKey(name: string): Uint8Array {
  return utf8.encode(PREFIX + normalizeUserId(name))
}

/**
 * The user ID inside a DHT key. Strict: the key must be exactly what
 * userRecordKey would produce, so one name cannot be stored under two keys.
 */
export function nameFromRecordKey(key: Uint8Array): string {
  let text: string
  try {
    text = strictUtf8.decode(key)
  } catch {
    throw new InvalidRecordError('DHT key is not valid UTF-8')
  }
  if (!text.startsWith(PREFIX)) {
    throw new InvalidRecordError(`DHT key is not in the /${USER_RECORD_NAMESPACE}/ namespace`)
  }
  const name = text.slice(PREFIX.length)
  if (!isValidUserId(name)) {
    throw new InvalidRecordError('DHT key holds an invalid or non-normalised user ID')
  }
  return name
}
