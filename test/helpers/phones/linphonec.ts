/**
 * Debian's linphonec 5.1.65 (`/usr/bin/linphonec -c <rcfile>`) as a test phone.
 *
 * Stock configuration: one proxy config (`reg_proxy` and `reg_route`: the
 * gateway, as Linphone's "SIP server address" and "Outbound proxy" fields
 * write them; without the route linphonec looks the domain up in DNS for an
 * INVITE), one auth_info, fixed SIP and RTP ports, one SIP listener (UDP or TCP, as the account's transport), and
 * `use_ipv6=0` (linphonec 5.1 otherwise listens on [::] only and finds no
 * listening point for 127.0.0.1). Audio is
 * in file mode (`soundcard use files`): the phone plays a WAV tone and records
 * what it hears into the rc's directory.
 *
 * Driven through stdin (`call`, `answer`, `terminate`, `pause`, `resume`,
 * `chat <uri> <text>`, and a single DTMF digit on its own line sends it as an
 * RFC 4733 telephone-event), observed through what it prints with `-S`
 * (general state messages): "Receiving new incoming call", "Call N with X
 * connected.", "... ended", "is now paused", "has been paused by", "Media streams
 * established" (again, on the far end's resume), "Receiving tone D from",
 * "Message received from X: text".
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { PhoneProcess, installed } from './phone-process.js'
import { writeToneWav } from './stock-phone.js'
import type { PhoneEvent, PhoneOptions, StockPhone } from './stock-phone.js'

export const LINPHONEC = '/usr/bin/linphonec'

export function linphonecInstalled(): boolean {
  return installed(LINPHONEC)
}

export class LinphonecPhone implements StockPhone {
  readonly kind = 'linphonec'
  readonly aor: string
  private proc?: PhoneProcess

  constructor(private readonly opts: PhoneOptions) {
    this.aor = `sip:${opts.account.user}@${opts.account.domain}`
  }

  async start(): Promise<void> {
    const proc = (this.proc = await PhoneProcess.tempDir('kp-linphonec-'))
    const { account: a, basePort: p, toneHz } = this.opts
    const t = a.transport ?? 'udp'
    const gw = `sip:127.0.0.1:${a.gatewayPort};transport=${t}`
    const rc = join(proc.dir, 'linphonerc')
    await writeFile(
      rc,
      [
        '[sip]',
        // One listener, on the account's transport.
        `sip_port=${t === 'udp' ? p : 0}`,
        `sip_tcp_port=${t === 'tcp' ? p : 0}`,
        'sip_tls_port=0',
        'default_proxy=0',
        'register_only_when_network_is_up=0',
        // 5.1 listens on [::] only with IPv6 on, and then finds no listening
        // point for 127.0.0.1; its one-time migration would turn IPv6 back on.
        'use_ipv6=0',
        'ipv6_migration_done=1',
        '[rtp]',
        `audio_rtp_port=${p + 4}`,
        `video_rtp_port=${p + 6}`,
        `text_rtp_port=${p + 8}`,
        '[sound]',
        'echocancellation=0',
        '[proxy_0]',
        `reg_proxy=<${gw}>`,
        `reg_route=<${gw};lr>`,
        `reg_identity="${a.user}" <sip:${a.user}@${a.domain}>`,
        'reg_expires=600',
        'reg_sendregister=1',
        'publish=0',
        '[auth_info_0]',
        `username=${a.user}`,
        `passwd=${a.password}`,
        `realm=${a.domain}`,
        `domain=${a.domain}`,
        '',
      ].join('\n'),
    )
    // Its call-log and chat database; without it the core never reaches the
    // "On" state and refuses incoming calls with 503.
    await mkdir(join(proc.dir, '.local/share/linphone'), { recursive: true })
    const tone = join(proc.dir, 'tone.wav')
    await writeToneWav(tone, toneHz, 30)
    // KAIWA_PHONE_TRACE=1: liblinphone's full log (every SIP message) in the dir.
    const trace =
      process.env.KAIWA_PHONE_TRACE === '1' ? ['-d', '6', '-l', join(proc.dir, 'sip.log')] : []
    proc.start(LINPHONEC, ['-c', rc, '-S', ...trace], this.opts.spawn)
    proc.write('soundcard use files')
    proc.write(`play ${tone}`)
    proc.write(`record ${join(proc.dir, 'heard.wav')}`)
    await this.registered()
  }

  async dial(uri: string): Promise<void> {
    this.command(`call ${uri}`)
  }

  async answer(): Promise<void> {
    this.command('answer')
  }

  async hangup(): Promise<void> {
    this.command('terminate')
  }

  async hold(): Promise<void> {
    this.command('pause')
  }

  async resume(): Promise<void> {
    this.command('resume')
  }

  async sendDtmf(digit: string): Promise<void> {
    if (!/^[0-9*#A-D]$/.test(digit)) throw new Error(`not a DTMF digit: ${digit}`)
    this.command(digit)
  }

  async sendMessage(uri: string, text: string): Promise<void> {
    this.command(`chat ${uri} ${text}`)
  }

  mark(): number {
    return this.proc?.lines.length ?? 0
  }

  async waitFor(event: PhoneEvent, timeoutMs: number, from = 0): Promise<number> {
    const line = await this.need().waitFor(pattern(event), timeoutMs, from, describe(event))
    return line.at
  }

  /** File mode records every call into the one `record` file. */
  async recordings(): Promise<string[]> {
    const heard = join(this.need().dir, 'heard.wav')
    return existsSync(heard) ? [heard] : []
  }

  tail(): string {
    return this.proc?.tail() ?? ''
  }

  async stop(): Promise<void> {
    this.proc?.write('quit')
    await this.proc?.stop(process.env.KAIWA_KEEP_PHONES === '1')
  }

  /** `proxy list` until the proxy config reports registered (`status register` says -1 in 5.1). */
  private async registered(): Promise<void> {
    const proc = this.need()
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      const from = proc.lines.length
      proc.write('proxy list')
      const hit = await proc.waitFor(/^registered: /, 500, from).catch(() => undefined)
      if (hit?.text.trim() === 'registered: yes') return
      await new Promise((r) => setTimeout(r, 300))
    }
    throw new Error(`linphonec did not register ${this.aor}:\n${proc.tail()}`)
  }

  private command(line: string): void {
    this.need().write(line)
  }

  private need(): PhoneProcess {
    if (this.proc == null) throw new Error('linphonec is not started')
    return this.proc
  }
}

function pattern(e: PhoneEvent): RegExp {
  switch (e.kind) {
    case 'incoming':
      return /Receiving new incoming call/
    case 'established':
      return /Call \d+ with .* connected\./
    case 'closed':
      return /Call \d+ with .* ended/
    case 'held':
      return /Call \d+ with .* is now paused\./
    case 'remote-hold':
      return /has been paused by/
    case 'remote-resume':
      // Printed again when the far end's re-INVITE brings the streams back.
      return /Media streams established with/
    case 'dtmf':
      return new RegExp(`Receiving tone ${e.digit.replace(/[*#]/, '\\$&')} from`)
    case 'message':
      return new RegExp(`Message received from .*: ${e.text}`)
  }
}

function describe(e: PhoneEvent): string {
  return 'digit' in e ? `DTMF ${e.digit}` : 'text' in e ? `message "${e.text}"` : e.kind
}
