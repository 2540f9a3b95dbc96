/**
 * SipLinks' first contact (issue 13 §6): concurrent requests to one peer share
 * one link being opened and one set of dials; the relay path carries the link
 * at once when the direct addresses hang; a direct connection that comes up
 * later takes the link over. libp2p is faked down to the stream.
 */
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { SipLinks } from '../../../src/overlay/sip/sip-links.js'
import type { SipLinksComponents } from '../../../src/overlay/sip/sip-links.js'
import { silentLogger } from '../../helpers/logger.js'
import { parseSipMessage } from '../../../src/shared/sip/sip-parser.js'
import type { SipMessage } from '../../../src/shared/sip/sip-message.js'

const RELAY = '12D3KooWBj7ezBh2m3JieD3s7ZZXuz6nQ6cuGNfYk3FbL5oVd4tm'
const CIRCUIT = `/ip4/203.0.113.2/tcp/4001/p2p/${RELAY}/p2p-circuit`
const DIRECT = '/ip4/203.0.113.14/tcp/40000'

/** A stream that records what is sent and never ends until closed. */
function fakeStream(): Stream & { sent: Uint8Array[] } {
  let end = (): void => {}
  const ended = new Promise<void>((r) => (end = r))
  const s = {
    sent: [] as Uint8Array[],
    status: 'open',
    writeStatus: 'writable',
    send(b: Uint8Array) {
      s.sent.push(b)
      return true
    },
    close: async () => {
      s.status = 'closed'
      end()
    },
    abort: () => {
      s.status = 'aborted'
      end()
    },
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        await ended
        return { done: true, value: undefined }
      },
    }),
  }
  return s as unknown as Stream & { sent: Uint8Array[] }
}

function fakeConn(
  peer: PeerId,
  addr: string,
  limited: boolean,
): Connection & { streams: number; last: Stream | undefined } {
  const c = {
    id: addr,
    streams: 0,
    last: undefined as Stream | undefined,
    remotePeer: peer,
    remoteAddr: multiaddr(addr),
    status: 'open',
    limits: limited ? { bytes: 1n << 17n } : undefined,
    newStream: async () => {
      c.streams++
      c.last = fakeStream()
      return c.last
    },
    close: async () => {},
  }
  return c as unknown as Connection & { streams: number; last: Stream | undefined }
}

async function setup(
  direct: () => Promise<Connection>,
  webrtc: (peer: PeerId) => Promise<Connection> = () => new Promise(() => {}),
  onMessage: (msg: SipMessage) => void = () => {},
) {
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const relayed = fakeConn(peer, CIRCUIT, true)
  const dials: string[] = []
  const components: SipLinksComponents = {
    registrar: { handle: async () => {}, unhandle: async () => {} },
    peerStore: {
      merge: async () => ({}) as never,
      get: async () => {
        throw new Error('not found')
      },
    },
    connectionManager: {
      getConnections: () => [],
      openConnection: async () => {
        dials.push('direct')
        return direct()
      },
    },
    transportManager: {
      dial: async (ma) => {
        if (ma.toString().includes('/webrtc')) {
          dials.push('webrtc')
          return webrtc(peer)
        }
        dials.push('relay')
        await new Promise((r) => setTimeout(r, 20))
        return relayed
      },
    },
  }
  const links = new SipLinks(components, {
    log: silentLogger,
    onMessage,
    attemptDelayMs: 20,
  })
  await links.start()
  return { peer, links, relayed, dials }
}

const MESSAGE = parsed(
  'MESSAGE sip:b@kaiwa SIP/2.0\r\nVia: SIP/2.0/TCP x;branch=z9hG4bK1\r\nFrom: <sip:a@kaiwa>;tag=1\r\nTo: <sip:b@kaiwa>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
)

function parsed(text: string): SipMessage {
  const r = parseSipMessage(new TextEncoder().encode(text), { transport: 'stream' })
  if (!r.ok) throw r.error
  return r.message
}

describe('SipLinks first contact', () => {
  it('shares one opening link, and one set of dials, among concurrent requests to a peer', async () => {
    const { peer, links, relayed, dials } = await setup(() => new Promise(() => {}))
    const addrs = [multiaddr(DIRECT), multiaddr(CIRCUIT)]
    const [l1, l2, l3] = await Promise.all([
      links.linkTo(peer.toString(), addrs),
      links.linkTo(peer.toString(), addrs),
      links.linkTo(peer.toString(), []),
    ])
    expect(l1).toBe(l2)
    expect(l1).toBe(l3)
    expect(dials).toEqual(['direct', 'relay'])
    expect(relayed.streams).toBe(1)
    expect(l1.relayed).toBe(true)
    expect(l1.send(MESSAGE)).toBe(true)
    // The hot path: an open link is reused with no dial at all.
    expect(await links.linkTo(peer.toString(), addrs)).toBe(l1)
    expect(dials).toHaveLength(2)
    await links.stop()
  })

  it('moves the link onto a direct connection that comes up after the relay carried it', async () => {
    let release = (_c: Connection): void => {}
    const { peer, links } = await setup(() => new Promise((r) => (release = r)))
    const first = await links.linkTo(peer.toString(), [multiaddr(DIRECT), multiaddr(CIRCUIT)])
    expect(first.relayed).toBe(true)
    const direct = fakeConn(peer, DIRECT, false)
    release(direct)
    await new Promise((r) => setTimeout(r, 10))
    const now = await links.linkTo(peer.toString(), [])
    expect(now.relayed).toBe(false)
    expect(direct.streams).toBe(1)
    // The relayed link was retired: new messages go direct.
    expect(first.open).toBe(false)
    await links.stop()
  })

  it('tries WebRTC past the dial queue while a raced direct dial still hangs there', async () => {
    let webrtcConn: (Connection & { streams: number }) | undefined
    const { peer, links, dials } = await setup(
      () => new Promise(() => {}),
      async (p) => (webrtcConn = fakeConn(p, `${CIRCUIT}/webrtc/p2p/${p.toString()}`, false)),
    )
    const first = await links.linkTo(peer.toString(), [
      multiaddr(DIRECT),
      multiaddr(CIRCUIT),
      multiaddr(`${CIRCUIT}/webrtc`),
    ])
    expect(first.relayed).toBe(true)
    await new Promise((r) => setTimeout(r, 10))
    expect(dials).toEqual(['direct', 'relay', 'webrtc'])
    expect(webrtcConn?.streams).toBe(1)
    expect((await links.linkTo(peer.toString(), [])).relayed).toBe(false)
    await links.stop()
  })
})

describe('SipLinks when a link ends', () => {
  it('answers each request still waiting on it with 503 (RFC 3261 §16.9), not ACKs', async () => {
    const got: SipMessage[] = []
    const { peer, links } = await setup(
      () => new Promise(() => {}),
      undefined,
      (m) => got.push(m),
    )
    const link = await links.linkTo(peer.toString(), [multiaddr(CIRCUIT)])
    const ack = parsed(
      'ACK sip:b@kaiwa SIP/2.0\r\nVia: SIP/2.0/TCP x;branch=z9hG4bK2\r\nFrom: <sip:a@kaiwa>;tag=1\r\nTo: <sip:b@kaiwa>;tag=2\r\nCall-ID: c2\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
    )
    expect(link.send(MESSAGE)).toBe(true)
    expect(link.send(ack)).toBe(true)
    // The connection under it died (the far end roamed): the stream ends.
    await links.stop()
    await new Promise((r) => setTimeout(r, 10))
    expect(got).toHaveLength(1)
    const res = got[0]!
    expect(res.kind).toBe('response')
    if (res.kind !== 'response') return
    expect(res.status).toBe(503)
    expect(res.headers.get('call-id')).toBe('c1')
    expect(res.headers.get('cseq')).toBe('1 MESSAGE')
  })

  it('leaves them waiting when the far end closes it cleanly (its answers come over a newer link)', async () => {
    const got: SipMessage[] = []
    const { peer, links, relayed } = await setup(
      () => new Promise(() => {}),
      undefined,
      (m) => got.push(m),
    )
    const link = await links.linkTo(peer.toString(), [multiaddr(CIRCUIT)])
    expect(link.send(MESSAGE)).toBe(true)
    // The far end retired this link for a direct one: a clean close, not a reset.
    await relayed.last!.close()
    await new Promise((r) => setTimeout(r, 10))
    expect(got).toEqual([])
    await links.stop()
  })
})
