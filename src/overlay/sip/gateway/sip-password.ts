/**
 * The gateway's digest password when `--sip-password` is not given: generated
 * on first start and kept in `<dataDir>/sip-password`, private to the user
 * (0600), so the phone's configuration survives restarts. `kaiwa status`
 * shows it to token holders.
 */
import { randomBytes } from 'node:crypto'
import { chmod, open, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { KaiwaError } from '../../../shared/errors.js'

export const SIP_PASSWORD_FILE = 'sip-password'

/** The password file exists but holds no usable password. */
export class SipPasswordFileError extends KaiwaError {
  constructor(path: string) {
    super(`${path} is empty or unreadable; delete it and restart to generate a new one`, 'internal')
    this.name = 'SipPasswordFileError'
  }
}

async function readPassword(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim()
    if (text === '' || /[\r\n]/.test(text)) throw new SipPasswordFileError(path)
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600)
    return text
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export async function loadOrCreateSipPassword(dataDir: string): Promise<string> {
  const path = join(dataDir, SIP_PASSWORD_FILE)
  const existing = await readPassword(path)
  if (existing != null) return existing
  // 18 random bytes: 24 base64url characters, easy to type into a phone.
  const password = randomBytes(18).toString('base64url')
  let fh
  try {
    fh = await open(path, 'wx', 0o600) // never reuse a file someone else made
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const raced = await readPassword(path)
    if (raced == null) throw new SipPasswordFileError(path)
    return raced
  }
  try {
    await fh.writeFile(password + '\n', 'utf8')
    await fh.sync()
  } finally {
    await fh.close()
  }
  return password
}
