/**
 * Account backup and restore. The backup holds the account key (the user ID
 * belongs to it) and the claimed name, never the device key: a restored
 * install is one more device of the same account, and the records merge
 * devices. It is encrypted with a key stretched from the user's passphrase
 * (scrypt, N=2^17, r=8, p=1, the interactive-login cost RFC 7914 §2
 * discusses) under XChaCha20-Poly1305, so a stolen backup file is only as
 * weak as the passphrase.
 */
import { privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { decode, encode } from 'cborg'
import { fromString, toString } from 'uint8arrays'
import { KaiwaError } from '../../shared/errors.js'

const MAGIC = 'kaiwa-backup-1:'
const SCRYPT = { N: 2 ** 17, r: 8, p: 1, dkLen: 32 }

/** The backup could not be opened: wrong passphrase, damaged or not a Kaiwa backup. */
export class BackupError extends KaiwaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'invalid_input', options)
    this.name = 'BackupError'
  }
}

export interface AccountBackup {
  accountKey: Ed25519PrivateKey
  name: string | null
}

export async function exportAccount(backup: AccountBackup, passphrase: string): Promise<string> {
  const salt = randomBytes(16)
  const nonce = randomBytes(24)
  const key = await scryptAsync(new TextEncoder().encode(passphrase), salt, SCRYPT)
  const plain = encode({
    v: 1,
    account: privateKeyToProtobuf(backup.accountKey),
    name: backup.name,
  })
  const sealed = xchacha20poly1305(key, nonce).encrypt(plain)
  const box = encode({ v: 1, salt, nonce, sealed })
  return MAGIC + toString(box, 'base64url')
}

export async function importAccount(text: string, passphrase: string): Promise<AccountBackup> {
  const trimmed = text.trim()
  if (!trimmed.startsWith(MAGIC)) throw new BackupError('this is not a Kaiwa account backup')
  let box: { v?: unknown; salt?: unknown; nonce?: unknown; sealed?: unknown }
  try {
    box = decode(fromString(trimmed.slice(MAGIC.length), 'base64url')) as typeof box
  } catch (err) {
    throw new BackupError('the backup file is damaged', { cause: err })
  }
  if (
    box.v !== 1 ||
    !(box.salt instanceof Uint8Array) ||
    !(box.nonce instanceof Uint8Array) ||
    box.nonce.length !== 24 ||
    !(box.sealed instanceof Uint8Array)
  )
    throw new BackupError('the backup file is damaged or from a newer version of Kaiwa')
  const key = await scryptAsync(new TextEncoder().encode(passphrase), box.salt, SCRYPT)
  let plain: Uint8Array
  try {
    plain = xchacha20poly1305(key, box.nonce).decrypt(box.sealed)
  } catch (err) {
    throw new BackupError('wrong passphrase, or the backup is damaged', { cause: err })
  }
  try {
    const raw = decode(plain) as { account?: unknown; name?: unknown }
    if (!(raw.account instanceof Uint8Array)) throw new Error('no account key')
    const accountKey = privateKeyFromProtobuf(raw.account)
    if (accountKey.type !== 'Ed25519') throw new Error('account key is not ed25519')
    return { accountKey, name: typeof raw.name === 'string' ? raw.name : null }
  } catch (err) {
    throw new BackupError('the backup decrypted but its contents are not valid', { cause: err })
  }
}
