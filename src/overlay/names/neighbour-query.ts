/**
 * "What do the other closest nodes hold for this key?", asked through the
 * DHT's own `get` query, for the first-claim check in record-validator.ts.
 *
 * One `get` walks towards the key and every server it reaches answers
 * GET_VALUE with its stored record, if any (kad-dht has already run our
 * validator on each record; a peer serving an invalid one is counted as an
 * error, not a responder). The answers are then ranked by Kademlia XOR
 * distance, SHA-256(key) ⊕ SHA-256(peer id multihash) as kad-dht computes it
 * (Maymounkov & Mazières 2002, §2.1), and only the `closest` nearest
 * responders are returned: nodes far from the key were never asked to store
 * the name and would only dilute the majority.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { compare } from 'uint8arrays'
import type { AbortOptions } from '@libp2p/interface'
import type { KaiwaLibp2p } from '../node/libp2p-factory.js'

export interface NeighbourAnswer {
  /** Peer id string of the responder. */
  peer: string
  /** XOR distance of the responder to the key (for ordering). */
  distance: Uint8Array
  /** Raw record value it holds, if any. */
  value?: Uint8Array
}

/** Closest-first answers from the reachable closest DHT servers, this node excluded. */
export type NeighbourQuery = (key: Uint8Array, options?: AbortOptions) => Promise<NeighbourAnswer[]>

export interface DhtNeighbourQueryInit {
  /**
   * Responders to keep, nearest first.
   * @default 5
   */
  closest?: number
  /**
   * Deadline for the whole query; what answered by then is used. It must stay
   * well under kad-dht's 5 s minimum request timeout, because the peer whose
   * PUT_VALUE triggered this check is waiting for our answer.
   * @default 3000
   */
  timeoutMs?: number
}

export function xorDistance(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.min(a.length, b.length))
  for (let i = 0; i < out.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

export function dhtNeighbourQuery(
  node: () => KaiwaLibp2p,
  init: DhtNeighbourQueryInit = {},
): NeighbourQuery {
  const closest = init.closest ?? 5
  const timeoutMs = init.timeoutMs ?? 3000
  return async (key, options = {}) => {
    const libp2p = node()
    const self = libp2p.peerId.toString()
    const target = sha256(key)
    const byPeer = new Map<string, NeighbourAnswer>()
    const deadline = AbortSignal.timeout(timeoutMs)
    const signal = options.signal == null ? deadline : AbortSignal.any([options.signal, deadline])
    try {
      for await (const ev of libp2p.services.dht.get(key, { signal })) {
        if (ev.name !== 'PEER_RESPONSE' || ev.messageName !== 'GET_VALUE') continue
        const peer = ev.from.toString()
        if (peer === self) continue
        const distance = xorDistance(target, sha256(ev.from.toMultihash().bytes))
        const prev = byPeer.get(peer)
        byPeer.set(peer, {
          peer,
          distance,
          ...(ev.record != null
            ? { value: ev.record.value }
            : prev?.value
              ? { value: prev.value }
              : {}),
        })
      }
    } catch (err) {
      // Our deadline or "nothing found" both end the query; what answered counts.
      if (options.signal?.aborted === true) throw err
    }
    return [...byPeer.values()].sort((a, b) => compare(a.distance, b.distance)).slice(0, closest)
  }
}
