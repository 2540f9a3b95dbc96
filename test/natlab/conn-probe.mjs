// Lab-only instrumentation, preloaded into a Kaiwa node with `node --import`.
// The control API does not (yet) list a node's connections, and libp2p is
// bundled, so there is no module to hook; but libp2p's events and
// node-datachannel's RTCPeerConnection are both EventTargets. Wrapping
// EventTarget.prototype.dispatchEvent sees every connection open and close
// (with its remote multiaddr and whether it is limited, i.e. relayed) and
// every WebRTC peer connection's ICE candidates, state and selected candidate
// pair. One JSON line per event goes to $NATLAB_PROBE. Nothing else changes.
/* global EventTarget */
import { appendFileSync } from 'node:fs'

// What-if switch for the bench (NATLAB_ENCODE_TURN=1): percent-encode the TURN
// username and password before node-datachannel's polyfill pastes them into a
// `turn:user:pass@host` URL. libdatachannel splits that user-info at the first
// ':' (and URL-decodes both parts), so Kaiwa's `expiry:peerId` usernames reach
// the TURN server cut short and every Allocate fails. This reproduces the
// proposed src fix without touching src: the polyfill validates the config in
// `_checkConfiguration` just before it builds the URLs, on the same object.
if (process.env.NATLAB_ENCODE_TURN === '1') {
  const { RTCPeerConnection } = await import('node-datachannel/polyfill')
  const check = RTCPeerConnection.prototype._checkConfiguration
  RTCPeerConnection.prototype._checkConfiguration = function (config) {
    if (Array.isArray(config?.iceServers)) {
      // A new array of new objects: the node reuses its cached iceServers.
      config.iceServers = config.iceServers.map((s) =>
        s.username != null && s.credential != null
          ? {
              ...s,
              username: encodeURIComponent(s.username),
              credential: encodeURIComponent(s.credential),
            }
          : s,
      )
    }
    return check.call(this, config)
  }
}

const out = process.env.NATLAB_PROBE
if (out) {
  const write = (o) => {
    try {
      appendFileSync(out, JSON.stringify({ t: Date.now(), ...o }) + '\n')
    } catch {
      // the data dir went away at teardown
    }
  }
  const pcIds = new WeakMap()
  const patchedProtos = new WeakSet()
  let nextPc = 1
  const pcId = (pc) => {
    let id = pcIds.get(pc)
    if (id == null) {
      id = nextPc++
      pcIds.set(pc, id)
      const cfg = typeof pc.getConfiguration === 'function' ? pc.getConfiguration() : undefined
      // The ICE servers node-datachannel got (credentials included: lab only).
      write({ ev: 'pc-new', pc: id, iceServers: cfg?.iceServers ?? null })
      watchRemoteCandidates(pc)
    }
    return id
  }
  // Remote candidates arrive through addIceCandidate, which dispatches nothing.
  const watchRemoteCandidates = (pc) => {
    const proto = Object.getPrototypeOf(pc)
    if (patchedProtos.has(proto) || typeof proto.addIceCandidate !== 'function') return
    patchedProtos.add(proto)
    const add = proto.addIceCandidate
    proto.addIceCandidate = function (candidate) {
      write({ ev: 'pc-remote-candidate', pc: pcId(this), cand: candidate?.candidate ?? null })
      return add.apply(this, arguments)
    }
  }
  const conn = (c) => ({
    id: c.id,
    peer: c.remotePeer?.toString(),
    addr: c.remoteAddr?.toString(),
    dir: c.direction,
    limited: c.limits != null,
  })
  const isPc = (t) => typeof t?.selectedCandidatePair === 'function'

  const dispatch = EventTarget.prototype.dispatchEvent
  EventTarget.prototype.dispatchEvent = function (ev) {
    try {
      const type = ev?.type
      if ((type === 'connection:open' || type === 'connection:close') && ev.detail?.remoteAddr) {
        write({ ev: type === 'connection:open' ? 'conn-open' : 'conn-close', ...conn(ev.detail) })
      } else if (isPc(this)) {
        const pc = pcId(this)
        if (type === 'icecandidate') {
          write({ ev: 'pc-local-candidate', pc, cand: ev.candidate?.candidate ?? null })
        } else if (type === 'icegatheringstatechange') {
          write({ ev: 'pc-gathering', pc, state: this.iceGatheringState })
        } else if (type === 'connectionstatechange') {
          const state = this.connectionState
          let pair = null
          if (state === 'connected') {
            try {
              pair = this.selectedCandidatePair()
            } catch {
              pair = null
            }
          }
          write({ ev: 'pc-state', pc, state, pair })
        }
      }
    } catch {
      // instrumentation must never break the node
    }
    return dispatch.call(this, ev)
  }
}
