/**
 * A minimal hand-written TURN client on our codec for the server tests: requests with
 * retransmission-free request/response matching by transaction id, the RFC 8489 §9.2 long-term
 * credential dance, and a queue of everything else the server sends (Data indications,
 * ChannelData).
 */
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import {
  decodeStun,
  encodeStun,
  isStun,
  longTermKey,
} from '../../../src/overlay/turn/stun-message.js'
import type { DecodedStunMessage, StunAttribute } from '../../../src/overlay/turn/stun-message.js'

export interface Reply extends DecodedStunMessage {
  raw: Uint8Array
}

export interface Creds {
  username: string
  password: string
  realm: string
}

export const errorCode = (m: DecodedStunMessage) => {
  const a = m.attributes.find((x) => x.name === 'ERROR-CODE')
  return a?.name === 'ERROR-CODE' ? a.value.code : undefined
}

export const attr = <T = unknown>(m: DecodedStunMessage, name: StunAttribute['name']) => {
  const a = m.attributes.find((x) => x.name === name)
  return a && 'value' in a ? (a.value as T) : undefined
}

export class TestClient {
  readonly inbox: Uint8Array[] = []
  private readonly pending = new Map<string, (r: Reply) => void>()
  private waiters: (() => void)[] = []
  nonce = ''
  key: Uint8Array | undefined

  private constructor(
    readonly socket: Socket,
    readonly server: number,
    readonly host: string,
  ) {
    socket.on('message', (buf) => {
      const raw = new Uint8Array(buf)
      if (isStun(raw)) {
        const m = decodeStun(raw)
        const cb = this.pending.get(Buffer.from(m.transactionId).toString('hex'))
        if (cb && (m.class === 'success' || m.class === 'error')) return cb({ ...m, raw })
      }
      this.inbox.push(raw)
      for (const w of this.waiters.splice(0)) w()
    })
  }

  /** A client on loopback of `host`'s family, talking to host:serverPort. */
  static async open(serverPort: number, host = '127.0.0.1'): Promise<TestClient> {
    const v6 = host.includes(':')
    const s = createSocket(v6 ? 'udp6' : 'udp4')
    await new Promise<void>((resolve) => s.bind(0, v6 ? '::1' : '127.0.0.1', resolve))
    return new TestClient(s, serverPort, host)
  }

  get port(): number {
    return this.socket.address().port
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.send(bytes, this.server, this.host)
  }

  /** Send a request (class request or indication) and wait for its response (not indications). */
  request(
    method: number,
    attributes: StunAttribute[],
    opts: { key?: Uint8Array; fingerprint?: boolean; tid?: Uint8Array; timeoutMs?: number } = {},
  ): Promise<Reply> {
    const transactionId = opts.tid ?? new Uint8Array(randomBytes(12))
    const id = Buffer.from(transactionId).toString('hex')
    const p = new Promise<Reply>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error('no response'))
      }, opts.timeoutMs ?? 2000)
      this.pending.set(id, (r) => {
        clearTimeout(t)
        this.pending.delete(id)
        resolve(r)
      })
    })
    const encodeOpts = { integrityKey: opts.key, fingerprint: opts.fingerprint ?? false }
    this.sendRaw(encodeStun({ method, class: 'request', transactionId, attributes }, encodeOpts))
    return p
  }

  indication(method: number, attributes: StunAttribute[]): void {
    const transactionId = new Uint8Array(randomBytes(12))
    this.sendRaw(encodeStun({ method, class: 'indication', transactionId, attributes }))
  }

  /**
   * An authenticated request: USERNAME, REALM, NONCE and MESSAGE-INTEGRITY (RFC 8489 §9.2.3),
   * fetching a nonce first when there is none, and retrying once on 438 with the new nonce.
   */
  async authed(method: number, attrs: StunAttribute[], c: Creds, tid?: Uint8Array): Promise<Reply> {
    if (!this.nonce) {
      const r = await this.request(method, attrs)
      this.nonce = attr<string>(r, 'NONCE') ?? ''
    }
    this.key = longTermKey(c.username, c.realm, c.password)
    const send = () =>
      this.request(
        method,
        [
          ...attrs,
          { name: 'USERNAME', value: c.username },
          { name: 'REALM', value: c.realm },
          { name: 'NONCE', value: this.nonce },
        ],
        { key: this.key, fingerprint: true, ...(tid ? { tid } : {}) },
      )
    let r = await send()
    if (errorCode(r) === 438) {
      this.nonce = attr<string>(r, 'NONCE') ?? ''
      r = await send()
    }
    return r
  }

  /** Next non-response packet (Data indication or ChannelData). */
  async next(timeoutMs = 2000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs
    while (this.inbox.length === 0) {
      if (Date.now() > deadline) throw new Error('nothing received')
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
    return this.inbox.shift()!
  }

  close(): void {
    this.socket.close()
  }
}
