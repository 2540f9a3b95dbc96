/**
 * A raw SIP peer for gateway tests: sends bytes over UDP or TCP to a gateway on
 * 127.0.0.1 and collects whatever comes back, parsed. Sockets are closed by
 * the helpers themselves.
 */
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { SipHeaders, serializeSipMessage } from '../../src/shared/sip/sip-message.js'
import type { SipMessage, SipRequest, SipResponse } from '../../src/shared/sip/sip-message.js'
import { parseSipMessage } from '../../src/shared/sip/sip-parser.js'
import { SipStreamFramer } from '../../src/shared/sip/stream-framer.js'
import { randomToken } from '../../src/shared/sip/responses.js'
import { digestResponse } from '../../src/overlay/sip/gateway/digest-auth.js'

export interface Exchange {
  responses: SipResponse[]
  /** Datagrams / stream bytes that did not parse as a response. */
  garbage: number
  /** TCP: the gateway closed the connection. */
  closed: boolean
}

function toResponse(bytes: Uint8Array): SipResponse | undefined {
  const r = parseSipMessage(bytes, { transport: 'datagram' })
  return r.ok && r.message.kind === 'response' ? r.message : undefined
}

/** Send one datagram from a fresh socket; collect responses until a final one (or `waitMs`). */
export function udpExchange(port: number, bytes: Uint8Array, waitMs = 500): Promise<Exchange> {
  return new Promise((resolve) => {
    const s = createSocket('udp4')
    const ex: Exchange = { responses: [], garbage: 0, closed: false }
    let timer: ReturnType<typeof setTimeout>
    let finished = false
    const done = (): void => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      s.close()
      resolve(ex)
    }
    s.on('message', (buf) => {
      const res = toResponse(new Uint8Array(buf))
      if (res == null) ex.garbage++
      else ex.responses.push(res)
      if (res != null && res.status >= 200) setTimeout(done, 30) // a little longer for stray extras
    })
    s.bind(0, '127.0.0.1', () => {
      s.send(bytes, port, '127.0.0.1')
      timer = setTimeout(done, waitMs)
    })
  })
}

/** Open a TCP connection, write `bytes`, collect responses for `waitMs` (or until closed). */
export function tcpExchange(port: number, bytes: Uint8Array, waitMs = 500): Promise<Exchange> {
  return new Promise((resolve) => {
    const ex: Exchange = { responses: [], garbage: 0, closed: false }
    const framer = new SipStreamFramer()
    const sock: Socket = connect({ port, host: '127.0.0.1' })
    let finished = false
    const done = (): void => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      sock.destroy()
      resolve(ex)
    }
    const timer = setTimeout(done, waitMs)
    sock.on('connect', () => sock.write(bytes))
    sock.on('data', (chunk) => {
      for (const r of framer.push(new Uint8Array(chunk))) {
        if (r.keepalive === true) continue
        if (r.ok && r.message.kind === 'response') {
          ex.responses.push(r.message)
          if (r.message.status >= 200) setTimeout(done, 30)
        } else ex.garbage++
      }
    })
    sock.on('error', () => {})
    sock.on('close', () => {
      ex.closed = true
      done()
    })
  })
}

export interface RequestOptions {
  method: string
  uri: string
  from: string
  to?: string
  transport?: 'UDP' | 'TCP'
  extra?: Array<[string, string]>
  body?: string
}

export function buildRequest(o: RequestOptions): SipRequest {
  const headers = new SipHeaders([
    ['Via', `SIP/2.0/${o.transport ?? 'UDP'} 127.0.0.1:9;branch=z9hG4bK${randomToken(8)};rport`],
    ['Max-Forwards', '70'],
    ['From', `<${o.from}>;tag=${randomToken(4)}`],
    ['To', `<${o.to ?? o.uri}>`],
    ['Call-ID', randomToken(10)],
    ['CSeq', `1 ${o.method}`],
    ...(o.extra ?? []),
  ])
  return {
    kind: 'request',
    method: o.method,
    uri: o.uri,
    version: 'SIP/2.0',
    headers,
    body: new TextEncoder().encode(o.body ?? ''),
  }
}

/** Answer the 401/407 challenge for `algorithm` with digest credentials (RFC 2617 §3.2.2). */
export function withCredentials(
  req: SipRequest,
  challenge: SipResponse,
  user: string,
  password: string,
  algorithm = 'MD5',
): SipRequest {
  const proxy = challenge.status === 407
  const offered = challenge.headers.getAll(proxy ? 'proxy-authenticate' : 'www-authenticate')
  const header = offered.find((h) => h.includes(`algorithm=${algorithm},`))!
  const realm = /realm="([^"]*)"/.exec(header)![1]!
  const nonce = /nonce="([^"]*)"/.exec(header)![1]!
  const cnonce = randomToken(4)
  const nc = '00000001'
  const response = digestResponse({
    username: user,
    realm,
    password,
    method: req.method,
    uri: req.uri,
    nonce,
    algorithm,
    qop: 'auth',
    nc,
    cnonce,
  })
  const headers = req.headers.clone()
  const cs = /^(\d+)\s+(\S+)$/.exec(headers.get('cseq')!)!
  headers.set('CSeq', `${Number(cs[1]) + 1} ${cs[2]}`)
  headers.set('Via', headers.get('via')!.replace(/branch=[^;]+/, `branch=z9hG4bK${randomToken(8)}`))
  headers.set(
    proxy ? 'Proxy-Authorization' : 'Authorization',
    `Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${req.uri}", ` +
      `response="${response}", algorithm=${algorithm}, cnonce="${cnonce}", qop=auth, nc=${nc}`,
  )
  return { ...req, headers }
}

export function wire(req: SipRequest): Uint8Array {
  return serializeSipMessage(req)
}

/** A UDP "phone" with one socket: keeps everything it receives, parsed. */
export class UdpPeer {
  readonly received: SipMessage[] = []
  private readonly sock = createSocket('udp4')
  private waiters: Array<() => void> = []

  static async open(): Promise<UdpPeer> {
    const p = new UdpPeer()
    await new Promise<void>((resolve) => p.sock.bind(0, '127.0.0.1', () => resolve()))
    p.sock.on('message', (buf) => {
      const r = parseSipMessage(new Uint8Array(buf), { transport: 'datagram' })
      if (r.ok) p.received.push(r.message)
      for (const w of p.waiters.splice(0)) w()
    })
    return p
  }

  get port(): number {
    return this.sock.address().port
  }

  send(to: number, msg: SipMessage | Uint8Array): void {
    this.sock.send(msg instanceof Uint8Array ? msg : serializeSipMessage(msg), to, '127.0.0.1')
  }

  /** Wait for a received message matching `pred` (searching from index `from`). */
  async next(pred: (m: SipMessage) => boolean, timeoutMs = 2000, from = 0): Promise<SipMessage> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.received.slice(from).find(pred)
      if (found != null) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('timed out waiting for a SIP message')
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
  }

  count(pred: (m: SipMessage) => boolean): number {
    return this.received.filter(pred).length
  }

  close(): void {
    this.sock.close()
  }
}

export const isResponse =
  (status: number) =>
  (m: SipMessage): m is SipResponse =>
    m.kind === 'response' && m.status === status

export const isRequest =
  (method: string) =>
  (m: SipMessage): m is SipRequest =>
    m.kind === 'request' && m.method === method
