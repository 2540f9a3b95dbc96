/**
 * node-datachannel (libdatachannel), loaded on first use. The bundles
 * (rolldown.config.mjs, rolldown.electron.config.mjs) resolve `node-datachannel`
 * and `node-datachannel/polyfill` here, for @libp2p/webrtc's imports as for
 * ours: an idle node never makes a peer connection, and loading the addon costs
 * ~7 MB of RSS and four threads (docs/benchmarks.md, bench:idle). The first
 * `new RTCPeerConnection()` (a WebRTC link) or use of `ndc.*` (an anchored
 * call) loads it synchronously, so callers see the same classes as before.
 */
import { createRequire } from 'node:module'
import type * as NdcModule from 'node-datachannel'
import type * as NdcPolyfill from 'node-datachannel/polyfill'

type Ndc = typeof NdcModule
type Polyfill = typeof NdcPolyfill

// CommonJS builds, so loading stays synchronous inside a constructor.
const load = createRequire(import.meta.url)
let ndc: Ndc | undefined
let polyfill: Polyfill | undefined
const lib = (): Ndc => (ndc ??= load('node-datachannel') as Ndc)
const poly = (): Polyfill => (polyfill ??= load('node-datachannel/polyfill') as Polyfill)

/**
 * An object, or with `constructible` a class, that stands for `real()`, which is
 * called on first touch. (The proxy's target is a bound function: it can be
 * called and constructed, and has no non-configurable `prototype` of its own
 * that would break the proxy's invariants.)
 */
export function lazy<T extends object>(real: () => T, constructible = false): T {
  const target = constructible ? function lazyClass() {}.bind(null) : {}
  const self: T = new Proxy(target as T, {
    get: (_t, key) => Reflect.get(real(), key) as unknown,
    set: (_t, key, value) => Reflect.set(real(), key, value),
    has: (_t, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(real(), key)
      // A proxy may not report a non-configurable property its target lacks.
      return d != null ? { ...d, configurable: true } : undefined
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    apply: (_t, me, args) => Reflect.apply(real() as (...a: unknown[]) => unknown, me, args),
    construct: (_t, args, newTarget) => {
      const cls = real() as new (...a: unknown[]) => object
      // `new Lazy()` builds the real class; a subclass of Lazy keeps its own prototype.
      return Reflect.construct(cls, args, newTarget === self ? cls : newTarget)
    },
  })
  return self
}

const ndcDefault = lazy(() => lib().default)
export default ndcDefault

// Named imports of @libp2p/webrtc's WebRTC Direct code (tree-shaken out today).
export const PeerConnection = lazy(() => lib().PeerConnection, true)
export const IceUdpMuxListener = lazy(() => lib().IceUdpMuxListener, true)

export const RTCPeerConnection = lazy(() => poly().RTCPeerConnection, true)
export const RTCSessionDescription = lazy(() => poly().RTCSessionDescription, true)
export const RTCIceCandidate = lazy(() => poly().RTCIceCandidate, true)

/** Whether libdatachannel has been loaded in this process (bench:idle, tests). */
export function datachannelLoaded(): boolean {
  return ndc != null || polyfill != null
}
