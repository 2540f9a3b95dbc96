/**
 * A minimal TURN-over-TCP client (RFC 8656 §3.1) for the server tests, the stream counterpart of
 * turn-test-client.ts: frames are cut with the server's own streamFramer (turn-tcp.ts),
 * responses are matched by transaction id, the RFC 8489 §9.2 long-term credential dance is done
 * once, and every other frame (ChannelData, Data indications) is queued whole, padding included.
 */
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import {
  decodeStun,
  encodeStun,
  isStun,
  longTermKey,
} from '../../../src/overlay/turn/stun-message.js'
import type { StunAttribute } from '../../../src/overlay/turn/stun-message.js'
import { streamFramer } from '../../../src/overlay/turn/turn-tcp.js'
import { attr, errorCode } from './turn-test-client.js'
import type { Creds, Reply } from './turn-test-client.js'

export class TcpTestClient {
  /** Frames that are not responses, whole as the server framed them. */
  readonly inbox: Uint8Array[] = []
  private readonly pending = new Map<string, (r: Reply) => void>()
  private nonce = ''

  private constructor(readonly socket: Socket) {
    const feed = streamFramer((frame) => {
      if (isStun(frame)) {
        const m = decodeStun(frame)
        const cb = this.pending.get(Buffer.from(m.transactionId).toString('hex'))
        if (cb && (m.class === 'success' || m.class === 'error')) return cb({ ...m, raw: frame })
      }
      this.inbox.push(frame)
    })
    socket.on('data', (chunk) => feed(new Uint8Array(chunk)))
  }

  static async open(port: number, host = '127.0.0.1'): Promise<TcpTestClient> {
    const socket = connect(port, host)
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    return new TcpTestClient(socket)
  }

  sendRaw(bytes: Uint8Array): void {
    this.socket.write(bytes)
  }

  private request(method: number, attributes: StunAttribute[], key?: Uint8Array): Promise<Reply> {
    const transactionId = new Uint8Array(randomBytes(12))
    const id = Buffer.from(transactionId).toString('hex')
    const reply = new Promise<Reply>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no response')), 2000)
      this.pending.set(id, (r) => {
        clearTimeout(t)
        this.pending.delete(id)
        resolve(r)
      })
    })
    const opts = key ? { integrityKey: key, fingerprint: true } : {}
    this.sendRaw(encodeStun({ method, class: 'request', transactionId, attributes }, opts))
    return reply
  }

  /** An authenticated request (USERNAME, REALM, NONCE, MESSAGE-INTEGRITY), nonce fetched once. */
  async authed(method: number, attrs: StunAttribute[], c: Creds): Promise<Reply> {
    if (!this.nonce) this.nonce = attr<string>(await this.request(method, attrs), 'NONCE') ?? ''
    const key = longTermKey(c.username, c.realm, c.password)
    const r = await this.request(
      method,
      [
        ...attrs,
        { name: 'USERNAME', value: c.username },
        { name: 'REALM', value: c.realm },
        { name: 'NONCE', value: this.nonce },
      ],
      key,
    )
    if (errorCode(r) === 438) throw new Error('stale nonce in a test that takes milliseconds')
    return r
  }

  /** The next non-response frame. */
  async next(timeoutMs = 2000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs
    while (this.inbox.length === 0) {
      if (Date.now() > deadline) throw new Error('nothing received')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return this.inbox.shift()!
  }

  close(): void {
    this.socket.destroy()
  }
}
