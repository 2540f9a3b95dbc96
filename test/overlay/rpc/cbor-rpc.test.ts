/**
 * The cbor-rpc helper between two real libp2p nodes on 127.0.0.1 (TCP, Noise,
 * Yamux): a server node handling test protocols and a client node asking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encode } from 'cborg'
import { lpStream } from '@libp2p/utils'
import type { Libp2p } from '@libp2p/interface'
import {
  CborRpcDecodeError,
  CborRpcError,
  CborRpcMessageTooLargeError,
  CborRpcTimeoutError,
  requestCborRpc,
  serveCborRpc,
} from '../../../src/overlay/rpc/cbor-rpc.js'
import type { CborMap, CborRpcServerOptions } from '../../../src/overlay/rpc/cbor-rpc.js'
import { connect, plainNode } from './plain-libp2p.js'

let server: Libp2p
let client: Libp2p
const unserve: Array<() => Promise<void>> = []
let protocolCount = 0

/** Serves a fresh protocol id on the server node. */
async function serve(opts: Partial<CborRpcServerOptions> = {}): Promise<string> {
  const protocol = `/kaiwa-test/rpc-${++protocolCount}/1.0.0`
  unserve.push(
    await serveCborRpc(server, {
      protocol,
      maxMessageBytes: 1024,
      maxInboundStreams: 4,
      handler: (req, ctx) => ({ echo: req, from: ctx.peer.toString() }),
      ...opts,
    }),
  )
  return protocol
}

describe('cbor-rpc', () => {
  beforeAll(async () => {
    ;[server, client] = await Promise.all([plainNode(), plainNode()])
    await connect(client, server)
  })

  afterAll(async () => {
    await Promise.allSettled(unserve.map((u) => u()))
    await Promise.allSettled([server?.stop(), client?.stop()])
  })

  it('round-trips a request and passes the authenticated remote peer to the handler', async () => {
    const protocol = await serve()
    const reply = await requestCborRpc(
      client,
      server.peerId,
      { v: 1, bytes: new Uint8Array([1, 2]) },
      { protocol, maxMessageBytes: 1024 },
    )
    expect(reply).toEqual({
      echo: { v: 1, bytes: new Uint8Array([1, 2]) },
      from: client.peerId.toString(),
    })
  })

  it('refuses an oversized request before buffering it', async () => {
    let seen: CborRpcError | undefined
    const protocol = await serve({
      onBadRequest: (err) => {
        seen = err
        return { error: 'bad_request' }
      },
    })
    const big = { blob: new Uint8Array(2000) }
    // The client's own limit refuses it without dialling.
    await expect(
      requestCborRpc(client, server.peerId, big, { protocol, maxMessageBytes: 1024 }),
    ).rejects.toBeInstanceOf(CborRpcMessageTooLargeError)
    // A length prefix over the server's limit is answered before any body is read.
    {
      const stream = await client.dialProtocol(server.peerId, protocol)
      stream.send(new Uint8Array([0xd0, 0x0f])) // varint 2000
      const frame = await lpStream(stream).read({ signal: AbortSignal.timeout(5000) })
      expect(new Uint8Array(frame.subarray())).toEqual(encode({ error: 'bad_request' }))
      expect(seen).toBeInstanceOf(CborRpcMessageTooLargeError)
      stream.abort(new Error('done'))
    }
    // A client with a larger limit sends the whole frame: the server refuses it
    // unread, and the unread body overflowing its buffer may reset the stream
    // before the error reply arrives. Either way the client does not hang.
    const outcome = await requestCborRpc(client, server.peerId, big, {
      protocol,
      maxMessageBytes: 4096,
    }).catch((err: unknown) => err)
    if (outcome instanceof Error) expect(outcome).toBeInstanceOf(CborRpcError)
    else expect(outcome).toEqual({ error: 'bad_request' })

    // Without onBadRequest the stream is aborted: the client sees a failure, not a hang.
    const strict = await serve()
    await expect(
      requestCborRpc(client, server.peerId, big, { protocol: strict, maxMessageBytes: 4096 }),
    ).rejects.toBeInstanceOf(CborRpcError)
  })

  it('answers malformed CBOR through onBadRequest, or aborts without it', async () => {
    let seen: CborRpcError | undefined
    const protocol = await serve({
      onBadRequest: (err) => {
        seen = err
        return { error: 'bad_request' }
      },
    })
    for (const bad of [
      new Uint8Array([0xff]), // a lone break code
      new Uint8Array([0xa1, 0x61, 0x61, 0xf7]), // { a: undefined }: strict decoding refuses it
      encode([1, 2, 3]), // valid CBOR but not a map
    ]) {
      const stream = await client.dialProtocol(server.peerId, protocol)
      const lp = lpStream(stream)
      await lp.write(bad)
      const frame = await lp.read({ signal: AbortSignal.timeout(5000) })
      expect(new Uint8Array(frame.subarray())).toEqual(encode({ error: 'bad_request' }))
      await stream.close()
      expect(seen).toBeInstanceOf(CborRpcDecodeError)
    }

    const strict = await serve()
    const stream = await client.dialProtocol(server.peerId, strict)
    const lp = lpStream(stream)
    await lp.write(new Uint8Array([0xff]))
    await expect(lp.read({ signal: AbortSignal.timeout(5000) })).rejects.toThrow()
  })

  it('rejects a malformed reply on the client side', async () => {
    const protocol = `/kaiwa-test/raw-${++protocolCount}/1.0.0`
    await server.handle(protocol, async (stream) => {
      const lp = lpStream(stream)
      await lp.read()
      await lp.write(new Uint8Array([0x1c])) // a reserved additional-info value
      await stream.close()
    })
    unserve.push(() => server.unhandle(protocol))
    await expect(
      requestCborRpc(client, server.peerId, { v: 1 }, { protocol, maxMessageBytes: 64 }),
    ).rejects.toBeInstanceOf(CborRpcDecodeError)
  })

  it('times out on both sides', async () => {
    // The client gives up on a server that answers too late.
    const slow = await serve({
      handler: async (_req, ctx) => {
        await new Promise((r) => setTimeout(r, 3000))
        return { late: !ctx.signal.aborted }
      },
      timeoutMs: 5000,
    })
    const started = Date.now()
    await expect(
      requestCborRpc(
        client,
        server.peerId,
        { v: 1 },
        { protocol: slow, maxMessageBytes: 64, timeoutMs: 300 },
      ),
    ).rejects.toBeInstanceOf(CborRpcTimeoutError)
    expect(Date.now() - started).toBeLessThan(2000)

    // The server aborts a stream that never sends its request.
    const idle = await serve({ timeoutMs: 300 })
    const stream = await client.dialProtocol(server.peerId, idle)
    const t0 = Date.now()
    const outcome = await lpStream(stream)
      .read({ signal: AbortSignal.timeout(5000) })
      .then(() => 'reply')
      .catch(() => 'closed')
    expect(outcome).toBe('closed')
    expect(Date.now() - t0).toBeLessThan(3000)
  })

  it('aborts the stream when the handler throws, and keeps serving', async () => {
    let calls = 0
    const protocol = await serve({
      handler: (req): CborMap => {
        calls++
        if (req.boom === true) throw new Error('handler failed')
        return { ok: true }
      },
    })
    await expect(
      requestCborRpc(client, server.peerId, { boom: true }, { protocol, maxMessageBytes: 64 }),
    ).rejects.toBeInstanceOf(CborRpcError)
    expect(
      await requestCborRpc(
        client,
        server.peerId,
        { boom: false },
        { protocol, maxMessageBytes: 64 },
      ),
    ).toEqual({ ok: true })
    expect(calls).toBe(2)
  })

  it('stops handling after unserve', async () => {
    const protocol = `/kaiwa-test/gone-${++protocolCount}/1.0.0`
    const stop = await serveCborRpc(server, {
      protocol,
      maxMessageBytes: 64,
      maxInboundStreams: 1,
      handler: () => ({ ok: true }),
    })
    expect(server.getProtocols()).toContain(protocol)
    await stop()
    expect(server.getProtocols()).not.toContain(protocol)
    await expect(
      requestCborRpc(client, server.peerId, {}, { protocol, maxMessageBytes: 64 }),
    ).rejects.toThrow()
  })
})
