/**
 * A real baresip (Debian's 1.0.0, libre 1.1) as a stock phone: its own HOME
 * and config directory (`baresip -f DIR`), one account registered at a Kaiwa
 * gateway as outbound proxy (the README's phone settings), UDP on 127.0.0.1
 * only. Its log is kept so a test can wait for "200 OK", "403", a MESSAGE.
 * baresip also opens SIP-TLS on its SIP port + 1, so the port must be one of a
 * free pair.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSocket } from 'node:dgram'

export const BARESIP = '/usr/bin/baresip'
export const hasBaresip = (): boolean => existsSync(BARESIP)

export interface BaresipOptions {
  user: string
  password: string
  domain: string
  /** The gateway's UDP port on 127.0.0.1 (registrar and outbound proxy). */
  gatewayPort: number
  /** Registration interval asked for (seconds). */
  regint?: number
}

export interface Baresip {
  readonly port: number
  readonly log: () => string
  /** Resolves when the log matches `re` (searching from character `from`). */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<string>
  stop(): Promise<void>
}

/** A UDP port p with p+1 free too (baresip's SIP and SIP-TLS), from the OS. */
async function freePair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await new Promise<number>((resolve) => {
      const s = createSocket('udp4')
      s.bind(0, '127.0.0.1', () => {
        const port = s.address().port
        s.close(() => resolve(port))
      })
    })
    if (p < 65000 && (await udpFree(p + 1))) return p
  }
  throw new Error('no free UDP port pair for baresip')
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4')
    s.once('error', () => resolve(false))
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/**
 * Start baresip and wait until it is ready. The port pair is free when picked
 * but other processes on the machine may take it before baresip binds, so a
 * start that fails is retried on a new pair.
 */
export async function startBaresip(o: BaresipOptions): Promise<Baresip> {
  let last = ''
  for (let attempt = 0; attempt < 3; attempt++) {
    const phone = await spawnBaresip(o)
    const ready = await phone
      .waitFor(/baresip is ready\./, 5000)
      .then(() => true)
      .catch(() => false)
    if (ready && !/address already in use|could not|failed/i.test(phone.log())) return phone
    last = phone.log()
    await phone.stop()
  }
  throw new Error(`baresip did not start:\n${last}`)
}

async function spawnBaresip(o: BaresipOptions): Promise<Baresip> {
  const home = await mkdtemp(join(tmpdir(), 'kd-baresip-'))
  const port = await freePair()
  await writeFile(
    join(home, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${port}`,
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module ausine.so',
      'module aufile.so',
      'audio_source ausine,440',
      'audio_player aufile,/dev/null',
      'audio_alert aufile,/dev/null',
      'module_app account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  )
  const regint = o.regint ?? 600
  await writeFile(
    join(home, 'accounts'),
    `<sip:${o.user}@${o.domain};transport=udp>;auth_pass=${o.password};` +
      `outbound="sip:127.0.0.1:${o.gatewayPort};transport=udp";regint=${regint};answermode=manual\n`,
  )
  let out = ''
  const child: ChildProcess = spawn(BARESIP, ['-f', home], {
    env: { ...process.env, HOME: home },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const waiters = new Set<() => void>()
  const onData = (b: Buffer): void => {
    out += b.toString('utf8')
    for (const w of waiters) w()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    port,
    log: () => out,
    waitFor(re, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out.slice(from))
          if (m == null) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(m[0])
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`baresip never printed ${String(re)}; its log:\n${out}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    async stop() {
      if (child.exitCode == null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(t)
      }
      await rm(home, { recursive: true, force: true })
    },
  }
}
