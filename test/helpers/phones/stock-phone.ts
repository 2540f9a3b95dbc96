/**
 * What a test can do with a stock SIP phone (baresip, linphonec), whatever
 * drives it underneath, and the pieces both drivers share: the account they
 * register (the gateway as registrar and outbound proxy, nothing else), free
 * port blocks in this suite's range, and a WAV tone for phones that play
 * audio from a file.
 */
import { writeFile } from 'node:fs/promises'
import { portFree } from '../port-range.js'
import type { PortRange } from '../port-range.js'
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
  /**
   * Offer Opus first, then G.711 (baresip's opus module, 48 kHz stereo), so a
   * media anchor passes Opus through. Default: G.711 only (PCMU, PCMA).
   * baresip only.
   */
  opus?: boolean
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
const RANGE: PortRange = { from: 38_100, to: 38_999 }
/** Per range: where the next search starts, so two phones set up in a row never share a block. */
const nextBlock = new Map<number, number>()

/**
 * `PORTS_PER_PHONE` consecutive ports free on 127.0.0.1 (UDP and TCP), in
 * `range` (default 38100-38999; a suite given other ports passes its range).
 */
export async function freePortBlock(range: PortRange = RANGE): Promise<number> {
  const blocks = Math.floor((range.to - range.from + 1) / PORTS_PER_PHONE)
  let next =
    nextBlock.get(range.from) ??
    range.from + Math.floor(Math.random() * Math.min(40, blocks)) * PORTS_PER_PHONE
  for (let tries = 0; tries < blocks; tries++) {
    const base = next
    next = next + 2 * PORTS_PER_PHONE - 1 > range.to ? range.from : next + PORTS_PER_PHONE
    nextBlock.set(range.from, next)
    let ok = true
    for (let p = base; p < base + PORTS_PER_PHONE && ok; p++) ok = await portFree(p)
    if (ok) return base
  }
  throw new Error(`no free block of phone ports in ${range.from}-${range.to}`)
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
