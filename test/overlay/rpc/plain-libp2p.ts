/**
 * Bare libp2p nodes for protocol tests: TCP on 127.0.0.1, Noise, Yamux and
 * whatever services the test passes, nothing else (no DHT, no discovery), so
 * a test exercises one protocol between two real nodes.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import type { ServiceFactoryMap } from 'libp2p'
import type { Libp2p, ServiceMap } from '@libp2p/interface'
import type { Logger } from '../../../src/shared/logger.js'

export async function plainNode<S extends ServiceMap = ServiceMap>(
  services?: ServiceFactoryMap<S>,
): Promise<Libp2p<S>> {
  return createLibp2p<S>({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Tests connect many nodes from one host at once; libp2p's default (5
    // inbound connections per second per host) would reset them.
    connectionManager: { inboundConnectionThreshold: 1000 },
    ...(services === undefined ? {} : { services }),
  })
}

/** Connects `a` to `b` so `a` can dial b's protocols by peer id. */
export async function connect(a: Libp2p, b: Libp2p): Promise<void> {
  await a.dial(b.getMultiaddrs()[0]!)
}

/** A logger that drops everything (set KAIWA_TEST_LOG=debug to see protocol debug lines). */
export const testLog: Logger = {
  debug: (msg) => {
    if (process.env.KAIWA_TEST_LOG === 'debug') console.error(msg)
  },
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => testLog,
}
