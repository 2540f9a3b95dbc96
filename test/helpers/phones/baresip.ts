/**
 * Debian's baresip 1.0.0 (`/usr/bin/baresip -f <configdir>`) as a test phone.
 *
 * Stock configuration, nothing Kaiwa-specific: one account
 * (`<sip:user@domain>;auth_pass=…;outbound="sip:127.0.0.1:GW;transport=udp"`),
 * G.711 only (with `opus`, Opus first, then G.711), a sine source
 * (`ausine`, the tone the far side can verify by frequency), the `aubridge`
 * player (no sound card needed) and `sndfile`, which writes what the phone
 * hears to WAV files in the config dir (at the codec's rate: 8 kHz for
 * G.711, 48 kHz stereo for Opus).
 *
 * Driven through its console (the `stdio` module reads keys and `/commands`
 * from stdin: `/dial`, `a` accept, `b` hang up, `x`/`X` hold and resume, a
 * digit sends DTMF, `/message` messages the current contact), observed
 * through `ctrl_tcp` events (netstring JSON: REGISTER_OK, CALL_INCOMING,
 * CALL_ESTABLISHED, CALL_CLOSED, CALL_DTMF_START) and its SIP trace (`-s`).
 *
 * Ports: SIP on `basePort` (UDP+TCP); baresip also opens SIP-TLS on
 * basePort + 1, so ctrl_tcp is on basePort + 2 and RTP from basePort + 4.
 *
 * With an injected `spawn` (a phone inside a network namespace), ctrl_tcp's
 * 127.0.0.1 is that namespace's, out of this process's reach: a small bridge
 * (node, started through the same `spawn`) connects to it there and copies
 * its events to its stdout.
 */
import type { ChildProcess } from 'node:child_process'
import { readdir, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { PhoneProcess, installed } from './phone-process.js'
import type { PhoneEvent, PhoneOptions, StockPhone } from './stock-phone.js'

export const BARESIP = '/usr/bin/baresip'

export function baresipInstalled(): boolean {
  return installed(BARESIP) && installed('/usr/lib/baresip/modules/ctrl_tcp.so')
}

export class BaresipPhone implements StockPhone {
  readonly kind = 'baresip'
  readonly aor: string
  private proc?: PhoneProcess
  private ctrl?: Socket
  private bridge?: ChildProcess

  constructor(private readonly opts: PhoneOptions) {
    this.aor = `sip:${opts.account.user}@${opts.account.domain}`
  }

  async start(): Promise<void> {
    const proc = (this.proc = await PhoneProcess.tempDir('kp-baresip-'))
    const { account: a, basePort: p, toneHz } = this.opts
    const transport = a.transport ?? 'udp'
    await writeFile(
      join(proc.dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen 127.0.0.1:${p}`,
        'call_local_timeout 120',
        `audio_player aubridge,kp-null-${p}`,
        `audio_source ausine,${toneHz}`,
        'ausrc_srate 48000', // ausine makes 48 kHz stereo only; baresip resamples for G.711
        'ausrc_channels 2',
        `audio_alert aubridge,kp-null-${p}`,
        `rtp_ports ${p + 4}-${p + 9}`,
        'module_path /usr/lib/baresip/modules',
        'module stdio.so',
        // baresip offers codecs in the order their modules load.
        ...(this.opts.opus === true ? ['module opus.so'] : []),
        'module g711.so',
        'module ausine.so',
        'module aubridge.so',
        'module sndfile.so',
        'module_tmp account.so',
        'module_app contact.so',
        'module_app menu.so',
        'module_app ctrl_tcp.so',
        `ctrl_tcp_listen 127.0.0.1:${p + 2}`,
        `snd_path ${proc.dir}`,
        '',
      ].join('\n'),
    )
    await writeFile(
      join(proc.dir, 'accounts'),
      `<sip:${a.user}@${a.domain};transport=${transport}>;auth_pass=${a.password};` +
        `outbound="sip:127.0.0.1:${a.gatewayPort};transport=${transport}";regint=600;answermode=manual\n`,
    )
    await writeFile(join(proc.dir, 'contacts'), `"peer" <${this.opts.peer}>\n`)
    proc.start(BARESIP, ['-f', proc.dir, '-s'], this.opts.spawn)
    await proc.waitFor(/baresip is ready/, 10_000, 0, 'baresip to start')
    await this.connectCtrl(p + 2)
    await proc.waitFor(
      /registered successfully|^EVENT REGISTER_OK/,
      10_000,
      0,
      `${this.aor} to register`,
    )
  }

  async dial(uri: string): Promise<void> {
    this.command(`/dial ${uri}`)
  }

  async answer(): Promise<void> {
    this.command('a')
  }

  async hangup(): Promise<void> {
    this.command('b')
  }

  async hold(): Promise<void> {
    this.command('x')
  }

  async resume(): Promise<void> {
    this.command('X')
  }

  async sendDtmf(digit: string): Promise<void> {
    if (!/^[0-9*#A-D]$/.test(digit)) throw new Error(`not a DTMF digit: ${digit}`)
    this.command(digit)
  }

  /** baresip 1.0 messages its current contact (the `peer` of the options). */
  async sendMessage(uri: string, text: string): Promise<void> {
    if (uri !== this.opts.peer)
      throw new Error(`baresip messages only its contact ${this.opts.peer}`)
    this.command(`/message ${text}`)
  }

  mark(): number {
    return this.proc?.lines.length ?? 0
  }

  async waitFor(event: PhoneEvent, timeoutMs: number, from = 0): Promise<number> {
    const line = await this.need().waitFor(pattern(event), timeoutMs, from, describe(event))
    return line.at
  }

  /** sndfile writes `dump-<time>-dec.wav` per call: what the phone decoded. */
  async recordings(): Promise<string[]> {
    const dir = this.need().dir
    return (await readdir(dir)).filter((f) => /^dump-.*-dec\.wav$/.test(f)).map((f) => join(dir, f))
  }

  tail(): string {
    return this.proc?.tail() ?? ''
  }

  async stop(): Promise<void> {
    this.ctrl?.destroy()
    if (this.bridge?.exitCode == null && this.bridge?.signalCode == null) this.bridge?.kill()
    await this.proc?.stop(process.env.KAIWA_KEEP_PHONES === '1')
  }

  private command(line: string): void {
    this.need().write(line)
  }

  private need(): PhoneProcess {
    if (this.proc == null) throw new Error('baresip is not started')
    return this.proc
  }

  /** ctrl_tcp events become `EVENT <type> <param>` lines among the phone's output. */
  private async connectCtrl(port: number): Promise<void> {
    const proc = this.need()
    let input: Readable
    if (this.opts.spawn == null) {
      const sock = await new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => resolve(s))
        s.once('error', reject)
      })
      sock.on('error', () => {})
      this.ctrl = sock
      input = sock
    } else {
      input = await this.ctrlBridge(port)
    }
    let buf = ''
    input.setEncoding('utf8')
    input.on('data', (chunk: string) => {
      buf += chunk
      for (;;) {
        const colon = buf.indexOf(':')
        if (colon < 0) return
        const len = Number(buf.slice(0, colon))
        if (!Number.isInteger(len) || buf.length < colon + 2 + len) return
        const payload = buf.slice(colon + 1, colon + 1 + len)
        buf = buf.slice(colon + 2 + len)
        try {
          const ev = JSON.parse(payload) as { event?: boolean; type?: string; param?: string }
          if (ev.event === true) proc.pushLine(`EVENT ${ev.type ?? '?'} ${ev.param ?? ''}`)
        } catch {
          proc.pushLine(`ctrl_tcp: unparsable ${payload.slice(0, 80)}`)
        }
      }
    })
    // The bridge's stream was read once in paused mode (its '+'): make it flow again.
    input.resume()
  }

  /** ctrl_tcp's byte stream, read through a bridge where the phone runs; resolves once connected. */
  private async ctrlBridge(port: number): Promise<Readable> {
    const proc = this.need()
    const bridge = (this.bridge = this.opts.spawn!(
      process.execPath,
      ['-e', CTRL_BRIDGE, String(port)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ))
    let err = ''
    bridge.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
    const stdout = bridge.stdout!
    await new Promise<void>((resolve, reject) => {
      // The bridge's first byte is '+' once it is connected; the rest is ctrl_tcp's.
      stdout.once('readable', () => {
        const first = stdout.read(1) as Buffer | null
        if (first?.toString() === '+') resolve()
        else reject(new Error(`ctrl_tcp bridge: unexpected start ${String(first)}`))
      })
      bridge.once('exit', (code) =>
        reject(new Error(`ctrl_tcp bridge to port ${port} exited (${code}): ${err.trim()}`)),
      )
    })
    bridge.once('exit', (code) => proc.pushLine(`ctrl_tcp bridge exited (${code}) ${err.trim()}`))
    return stdout
  }
}

/** Runs where the phone runs: connect to its ctrl_tcp, write '+', then copy the stream. */
const CTRL_BRIDGE = [
  "const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1')",
  "s.once('connect', () => { process.stdout.write('+'); s.pipe(process.stdout) })",
  "s.once('error', (e) => { console.error(String(e)); process.exit(1) })",
  "s.once('close', () => process.exit(0))",
].join(';')

function pattern(e: PhoneEvent): RegExp {
  switch (e.kind) {
    case 'incoming':
      return /^EVENT CALL_INCOMING/
    case 'established':
      return /^EVENT CALL_ESTABLISHED/
    case 'closed':
      return /^EVENT CALL_CLOSED/
    case 'held':
      // The SIP trace shows the far end's answer to our a=sendonly offer.
      return /^a=recvonly/
    case 'remote-hold':
      return /^a=(sendonly|inactive)/
    case 'remote-resume':
      return /^a=sendrecv/
    case 'dtmf':
      return new RegExp(`^EVENT CALL_DTMF_START ${e.digit.replace(/[*#]/, '\\$&')}`)
    case 'message':
      return new RegExp(`"${e.text}"`)
  }
}

function describe(e: PhoneEvent): string {
  return 'digit' in e ? `DTMF ${e.digit}` : 'text' in e ? `message "${e.text}"` : e.kind
}
