/**
 * Which overlay WebRTC dials may use TURN. Overlay links use the supernodes'
 * STUN only (libp2p-start.ts says why); a dial made inside `viaTurn` instead
 * allocates on a supernode's TURN server and offers relay candidates only
 * (RTCConfiguration.iceTransportPolicy 'relay', W3C webrtc-pc §4.2.1; RFC 8445
 * §5.1.1.2), so the link runs through TURN under its limits (relay-limits.ts)
 * and its operator's caps. File transfer asks for it only after direct
 * attempts failed (issue 15 §1). libjuice still sends checks from its host
 * sockets, so where a direct path does exist (two nodes on one host) ICE may
 * settle on it instead, which costs the supernode nothing.
 *
 * libp2p's WebRTC transport asks for its configuration without saying which
 * dial it is for, so the scope travels with the dial's async context
 * (AsyncLocalStorage): the dial started inside `viaTurn` sees it, while other
 * dials and every answer to a remote peer's dial keep STUN only.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

const scope = new AsyncLocalStorage<true>()

/** Run `dial` with its WebRTC dials going through TURN only. */
export function viaTurn<T>(dial: () => Promise<T>): Promise<T> {
  return scope.run(true, dial)
}

/** Whether the WebRTC dial asking now was started inside `viaTurn`. */
export function inTurnScope(): boolean {
  return scope.getStore() === true
}

/** Only TURN over UDP servers, with their credentials (libjuice relays over UDP only). */
export function turnOnly(servers: RTCIceServer[]): RTCIceServer[] {
  return servers
    .map((s) => ({
      ...s,
      urls: [s.urls].flat().filter((u) => u.startsWith('turn:') && !/[?&]transport=tcp\b/i.test(u)),
    }))
    .filter((s) => s.urls.length > 0 && s.username != null && s.credential != null)
}
