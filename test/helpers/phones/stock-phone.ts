/**
 * What a test can do with a stock SIP phone (baresip, linphonec), whatever
 * drives it underneath, and the pieces both drivers share: the account they
 * register (the gateway as registrar and outbound proxy, nothing else), free
 * port blocks in this suite's range, and a WAV tone for phones that play
 * audio from a file.
 */
import { createSocket } from 'node:dgram'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { PhoneSpawn } from './phone-process.js'

export interface PhoneAccount {
  /** The node's user ID: the phone's AOR is sip:<user>@<domain>, the digest username too. */
  user: string
  domain: string
  password: string
  /** The gateway's UDP/TCP port on 127.0.0.1 (where the phone runs: see `PhoneOptions.spawn`). */
  gatewayPort: number
  transport?: 'udp' | 'tcp'
}

export interface PhoneOptions {
  account: PhoneAccount
  /** First of `PORTS_PER_PHONE` consecutive free ports (SIP, SIP-TLS, control, RTP...). */
  basePort: number
  /** The tone this phone sends, in Hz (verified by frequency on the far side later). */
  toneHz: number
  /** The peer a MESSAGE goes to (baresip messages its "current contact"). */
  peer: string
  /**
   * Starts the phone's processes: node's spawn on this host by default. A test
   * that runs the phone inside a network namespace injects one that enters it
   * (the NAT lab's `lab.spawn(ns, …)`); the phone then uses that namespace's
   * 127.0.0.1 and ports, and the harness reaches its control socket from there.
   */
  spawn?: PhoneSpawn
}

export interface StockPhone {
  readonly kind: 'baresip' | 'linphonec'
  readonly aor: string
  /** Start the phone; resolves once its REGISTER got a 2xx. */
  start(): Promise<void>
  dial(uri: string): Promise<void>
  answer(): Promise<void>
  hangup(): Promise<void>
  hold(): Promise<void>
  resume(): Promise<void>
  sendDtmf(digit: string): Promise<void>
  sendMessage(uri: string, text: string): Promise<void>
  /** A mark in the phone's output: pass it to `waitFor` to see only what came after. */
  mark(): number
  /** Resolves with the time (ms) the event was observed. */
  waitFor(event: PhoneEvent, timeoutMs: number, from?: number): Promise<number>
  /**
   * WAV files of what the phone heard so far (for checking the far side's
   * tone by frequency); read them before stop(), which removes the directory.
   */
  recordings(): Promise<string[]>
  /** Everything the phone printed lately (for failure messages). */
  tail(): string
  stop(): Promise<void>
}

export type PhoneEvent =
  | { kind: 'incoming' }
  | { kind: 'established' }
  | { kind: 'closed' }
  /** This phone's own hold (re-INVITE) was accepted. */
  | { kind: 'held' }
  /** The far end put this phone on hold (a=sendonly/inactive re-INVITE), or took it off. */
  | { kind: 'remote-hold' }
  | { kind: 'remote-resume' }
  | { kind: 'dtmf'; digit: string }
  | { kind: 'message'; text: string }

/** Ports a phone may use: SIP (UDP+TCP), SIP-TLS (baresip: SIP + 1), control, then RTP. */
export const PORTS_PER_PHONE = 10
const RANGE = { from: 38_100, to: 38_999 }

async function portFree(port: number): Promise<boolean> {
  const tcp = await new Promise<boolean>((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
  if (!tcp) return false
  return new Promise<boolean>((resolve) => {
    const s = createSocket('udp4')
    s.once('error', () => resolve(false))
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

let nextBlock = RANGE.from + Math.floor(Math.random() * 40) * PORTS_PER_PHONE

/** `PORTS_PER_PHONE` consecutive ports free on 127.0.0.1 (UDP and TCP), in 38100-38999. */
export async function freePortBlock(): Promise<number> {
  for (let tries = 0; tries < 90; tries++) {
    const base = nextBlock
    nextBlock += PORTS_PER_PHONE
    if (nextBlock + PORTS_PER_PHONE > RANGE.to) nextBlock = RANGE.from
    let ok = true
    for (let p = base; p < base + PORTS_PER_PHONE && ok; p++) ok = await portFree(p)
    if (ok) return base
  }
  throw new Error('no free block of phone ports in 38100-38999')
}

/** A 16-bit mono 8 kHz WAV of a `hz` sine, `seconds` long. */
export async function writeToneWav(path: string, hz: number, seconds: number): Promise<void> {
  const rate = 8000
  const samples = rate * seconds
  const buf = Buffer.alloc(44 + samples * 2)
  buf.write('RIFF', 0)
  buf.writeUInt32LE(36 + samples * 2, 4)
  buf.write('WAVEfmt ', 8)
  buf.writeUInt32LE(16, 16)
  buf.writeUInt16LE(1, 20) // PCM
  buf.writeUInt16LE(1, 22) // mono
  buf.writeUInt32LE(rate, 24)
  buf.writeUInt32LE(rate * 2, 28)
  buf.writeUInt16LE(2, 32)
  buf.writeUInt16LE(16, 34)
  buf.write('data', 36)
  buf.writeUInt32LE(samples * 2, 40)
  for (let i = 0; i < samples; i++)
    buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)), 44 + i * 2)
  await writeFile(path, buf)
}
