/**
 * The parts every small real libp2p node of the overlay tests shares: TCP on
 * 127.0.0.1, Noise, yamux, and libp2p's inbound threshold raised (many nodes
 * on one host dial each other at once; the default, 5 inbound per second per
 * host, resets some of them, as libp2p-factory.ts says), plus kad-dht wired
 * as the overlay wires records (our validators and selectors).
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { tcp } from '@libp2p/tcp'
import type { userRecordValidators } from '../../src/overlay/names/record-validator.js'

/** createLibp2p options for a node on loopback (add datastore and services). */
export function loopbackLibp2p() {
  return {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: 1000 },
  }
}

/** kad-dht with the overlay's record rules: a server (supernode) or a client. */
export function recordDht(opts: {
  protocol: string
  server: boolean
  records: Pick<ReturnType<typeof userRecordValidators>, 'validators' | 'selectors'>
}) {
  return kadDHT({
    protocol: opts.protocol,
    clientMode: !opts.server,
    peerInfoMapper: passthroughMapper,
    allowQueryWithZeroPeers: opts.server,
    validators: opts.records.validators,
    selectors: opts.records.selectors,
    datastorePrefix: '/dht',
  })
}
