import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { reservedRelays } from '../../../src/overlay/node/relay-keeper.js'
import type { TestNetwork } from '../../helpers/nodes.js'
import { startNetwork, waitFor } from '../../helpers/nodes.js'

let net: TestNetwork

beforeAll(async () => {
  net = await startNetwork(3, 1)
})
afterAll(async () => net.stop())

describe('relay reservations', () => {
  it('holds reservations on two supernodes and replaces one that leaves', async () => {
    const client = net.clients[0]!
    await client.claim('relayed')
    await waitFor(
      () => reservedRelays(client.libp2p()).length >= 2,
      30_000,
      'reservations on two supernodes',
    )
    const first = reservedRelays(client.libp2p())
    // Both relay addresses go into the signed contact record.
    await client.directory.publish('relayed')
    const { record } = await net.supernodes[0]!.api.lookup({ name: 'relayed' })
    const published = record.devices[0]!.addrs.filter((a) => a.includes('/p2p-circuit'))
    expect(new Set(published.map((a) => /\/p2p\/([^/]+)\/p2p-circuit/.exec(a)?.[1]))).toEqual(
      new Set(first),
    )

    const gone = net.supernodes.find((s) => s.peerId === first[1])!
    await gone.stop()
    net.all = net.all.filter((n) => n !== gone)
    await waitFor(
      () => {
        const now = reservedRelays(client.libp2p())
        return now.length >= 2 && !now.includes(gone.peerId)
      },
      40_000,
      'a replacement reservation',
    )
    expect(reservedRelays(client.libp2p())).not.toContain(gone.peerId)
  })
})
