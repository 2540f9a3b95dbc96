/**
 * One stock SIP phone as a child process: its own temporary HOME and config
 * directory, every line it prints kept (stdout and stderr, with the time it
 * arrived), waiting for a line that matches, and stopping it by its own PID
 * (never by name: other engineers' phones run on this machine too).
 *
 * The process starts through a `PhoneSpawn`: node's own spawn by default, or
 * one a test injects to run the phone elsewhere, such as inside a NAT lab
 * namespace (`ip netns exec NS …`, which execs the phone, so the PID is still
 * the phone's own).
 */
import { spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Starts a phone's process (or a helper of it) with these options; node's `spawn` fits. */
export type PhoneSpawn = (cmd: string, args: string[], opts: SpawnOptions) => ChildProcess

export interface PhoneLine {
  at: number
  text: string
}

/** A phone did not do what a test waited for; the message carries its recent output. */
export class PhoneTimeoutError extends Error {
  static override readonly name = 'PhoneTimeoutError'
  constructor(what: string, tail: string) {
    super(`timed out waiting for ${what}; last output:\n${tail}`)
    this.name = PhoneTimeoutError.name
  }
}

export class PhoneProcess {
  readonly lines: PhoneLine[] = []
  private child?: ChildProcess
  private partial = ''
  private waiters: Array<() => void> = []
  exited = false

  private constructor(readonly dir: string) {}

  static async tempDir(prefix: string): Promise<PhoneProcess> {
    return new PhoneProcess(await mkdtemp(join(tmpdir(), prefix)))
  }

  start(bin: string, args: string[], spawnWith: PhoneSpawn = spawn): void {
    const child = spawnWith(bin, args, {
      cwd: this.dir,
      env: { ...process.env, HOME: this.dir, LANG: 'C.UTF-8', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child = child
    const take = (chunk: Buffer): void => this.take(chunk.toString('utf8'))
    child.stdout!.on('data', take)
    child.stderr!.on('data', take)
    child.on('exit', () => {
      this.exited = true
      this.take('\n')
    })
    child.on('error', (err) => this.take(`spawn error: ${String(err)}\n`))
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  /** Write one command line to the phone's stdin. */
  write(line: string): void {
    if (this.child?.stdin?.writable !== true) return
    this.child.stdin.write(`${line}\n`)
  }

  /** A line from another source about this phone (a control socket's events). */
  pushLine(text: string): void {
    this.lines.push({ at: Date.now(), text })
    for (const w of this.waiters.splice(0)) w()
  }

  /** Lines (from index `from`) matching `re`. */
  matches(re: RegExp, from = 0): PhoneLine[] {
    return this.lines.slice(from).filter((l) => re.test(l.text))
  }

  /** The first line from index `from` matching `re`, waiting up to `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs: number, from = 0, what = String(re)): Promise<PhoneLine> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const hit = this.lines.slice(from).find((l) => re.test(l.text))
      if (hit != null) return hit
      const left = deadline - Date.now()
      if (left <= 0 || this.exited) throw new PhoneTimeoutError(what, this.tail())
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250))
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  tail(n = 40): string {
    return this.lines
      .slice(-n)
      .map((l) => l.text)
      .join('\n')
  }

  /** SIGTERM this phone (by PID), then SIGKILL if it lingers; remove its directory. */
  async stop(keepDir = false): Promise<void> {
    const child = this.child
    if (child?.pid != null && !this.exited) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      process.kill(child.pid, 'SIGTERM')
      const killed = await Promise.race([
        gone.then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
      ])
      if (!killed && !this.exited) {
        process.kill(child.pid, 'SIGKILL')
        await gone
      }
    }
    if (keepDir)
      await writeFile(join(this.dir, 'phone.log'), this.lines.map((l) => l.text).join('\n'))
    else await rm(this.dir, { recursive: true, force: true })
  }

  private take(text: string): void {
    const all = this.partial + text
    const parts = all.split(/\r?\n/)
    this.partial = parts.pop() ?? ''
    const at = Date.now()
    for (const p of parts) if (p.trim() !== '') this.lines.push({ at, text: p })
    for (const w of this.waiters.splice(0)) w()
  }
}

/** True when `bin` exists (the phone is installed). */
export function installed(bin: string): boolean {
  return existsSync(bin)
}
