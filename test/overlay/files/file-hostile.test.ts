/**
 * `/kaiwa/file/1.0.0` against hostile peers that speak the raw protocol: a
 * tampered chunk (refused with `nack`, and the transfer stopped after repeated
 * corruption; nothing is shown as received), a chunk for no transfer, an
 * offer from an anonymous peer (a key that is not the named user's, or a
 * genuine offer replayed from a peer that is not one of its devices).
 */
import { randomBytes } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p } from '@libp2p/interface'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KaiwaNode } from '../../../src/main/kaiwa-node.js'
import { FILE_PROTOCOL, frameStream } from '../../../src/overlay/files/file-protocol.js'
import type { FrameStream } from '../../../src/overlay/files/frame-stream.js'
import { prepareOffer } from '../../../src/overlay/files/prepare-offer.js'
import { encodeFileOffer, signFileOffer } from '../../../src/shared/files/file-offer.js'
import type { FileOffer } from '../../../src/shared/files/file-offer.js'
import { decodeFileFrame, encodeFileFrame } from '../../../src/shared/files/file-wire.js'
import type { FileFrame } from '../../../src/shared/files/file-wire.js'
import { startClient, startTestNode, tcpAddr, tempDir } from '../../helpers/nodes.js'
import { plainNode } from '../rpc/plain-libp2p.js'

const MiB = 1024 * 1024
let sn: KaiwaNode
let bob: KaiwaNode
let mallory: KaiwaNode
let anon: Libp2p
let dir: string
let file: string

/** A raw stream to bob's file protocol from `from`. */
async function open(from: Libp2p): Promise<FrameStream> {
  await from.dial(peerIdFromString(bob.peerId)).catch(() => from.dial(multiaddrOf(bob)))
  return frameStream(await from.dialProtocol(peerIdFromString(bob.peerId), FILE_PROTOCOL))
}

function multiaddrOf(node: KaiwaNode) {
  return node.addrs().find((a) => a.toString() === tcpAddr(node))!
}

async function next(fs: FrameStream): Promise<FileFrame> {
  const raw = await fs.read(AbortSignal.timeout(15_000))
  if (raw == null) throw new Error('stream ended')
  return decodeFileFrame(raw)
}

async function malloryOffer(): Promise<FileOffer> {
  return prepareOffer({
    from: 'mallory',
    to: 'bob',
    path: file,
    accountKey: mallory.identity.accountKey,
  })
}

beforeAll(async () => {
  dir = await tempDir('hfile-hostile-')
  file = join(dir, 'three.bin')
  await writeFile(file, randomBytes(3 * MiB))
  sn = await startTestNode({ supernode: 'on' })
  bob = await startClient(sn, { name: 'bob' })
  mallory = await startClient(sn, { name: 'mallory' })
  await bob.api.contactAdd({ name: 'mallory' })
  anon = await plainNode()
  await anon.dial(multiaddrOf(bob))
  await mallory.libp2p().dial(multiaddrOf(bob))
}, 90_000)
afterAll(async () => {
  await anon?.stop()
  await Promise.allSettled([sn, bob, mallory].map((n) => n?.stop()))
  await rm(dir, { recursive: true, force: true })
})

describe('file protocol against hostile peers', () => {
  it('refuses a tampered chunk, asks for it again, and stops after repeated corruption', async () => {
    const offer = await malloryOffer()
    const fs = await open(mallory.libp2p())
    await fs.write(encodeFileFrame({ t: 'offer', offer: encodeFileOffer(offer) }))
    expect((await next(fs)).t).toBe('accept')
    const bytes = new Uint8Array(await readFile(file))
    const chunk = (i: number) => bytes.subarray(i * MiB, (i + 1) * MiB)
    const tampered = (i: number) => {
      const c = new Uint8Array(chunk(i))
      c[1234] = c[1234]! ^ 0xff
      return c
    }
    await fs.write(encodeFileFrame({ t: 'chunk', i: 0, data: tampered(0) }))
    expect(await next(fs)).toEqual({ t: 'nack', i: 0 })
    await fs.write(encodeFileFrame({ t: 'chunk', i: 0, data: chunk(0) }))
    expect(await next(fs)).toEqual({ t: 'ack', i: 0 })
    for (let n = 0; n < 3; n++) {
      await fs.write(encodeFileFrame({ t: 'chunk', i: 1, data: tampered(1) }))
      expect(await next(fs)).toEqual({ t: 'nack', i: 1 })
    }
    await fs.write(encodeFileFrame({ t: 'chunk', i: 1, data: tampered(1) }))
    expect(await next(fs)).toMatchObject({ t: 'stop', code: 'too_many_bad_chunks' })
    const id = Buffer.from(offer.id).toString('hex')
    const seen = (await bob.api.transfers({})).transfers.find((t) => t.id === id)!
    expect(seen).toMatchObject({ direction: 'in', status: 'interrupted', bytesDone: MiB })
    expect((await bob.api.files({})).files.some((f) => f.id === id)).toBe(false)
  }, 60_000)

  it('answers a chunk for no transfer, and one past the end of a file, with unknown_transfer', async () => {
    const fs = await open(mallory.libp2p())
    await fs.write(encodeFileFrame({ t: 'chunk', i: 0, data: new Uint8Array(16) }))
    expect(await next(fs)).toMatchObject({ t: 'stop', code: 'unknown_transfer' })

    const offer = await malloryOffer()
    const fs2 = await open(mallory.libp2p())
    await fs2.write(encodeFileFrame({ t: 'offer', offer: encodeFileOffer(offer) }))
    expect((await next(fs2)).t).toBe('accept')
    await fs2.write(encodeFileFrame({ t: 'chunk', i: 7, data: new Uint8Array(16) }))
    expect(await next(fs2)).toMatchObject({ t: 'stop', code: 'unknown_transfer' })
  }, 60_000)

  it("refuses an offer signed by a key that is not the named user's", async () => {
    const key = await generateKeyPair('Ed25519')
    const genuine = await malloryOffer()
    const forged = await signFileOffer({ ...genuine, senderKey: key.publicKey.raw }, key)
    const fs = await open(anon)
    await fs.write(encodeFileFrame({ t: 'offer', offer: encodeFileOffer(forged) }))
    expect(await next(fs)).toMatchObject({
      t: 'refuse',
      code: 'unauthenticated',
      message: "the offer is not signed by mallory's key",
    })
  }, 60_000)

  it("refuses a genuine offer replayed from a peer that is not one of the sender's devices", async () => {
    const genuine = await malloryOffer()
    const fs = await open(anon)
    await fs.write(encodeFileFrame({ t: 'offer', offer: encodeFileOffer(genuine) }))
    expect(await next(fs)).toMatchObject({
      t: 'refuse',
      code: 'unauthenticated',
      message: `${anon.peerId.toString()} is not a device of mallory`,
    })
  }, 60_000)

  it('refuses garbage as the first frame', async () => {
    const fs = await open(anon)
    await fs.write(new Uint8Array([0xff, 0x00, 0x13]))
    expect(await next(fs)).toMatchObject({ t: 'stop', code: 'protocol' })
  }, 30_000)
})
