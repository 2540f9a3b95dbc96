// bench:call — the in-page probe, installed with page.addInitScript before the UI's
// own scripts run. It changes nothing in the UI; it only timestamps what happens:
//   - clicks on buttons (capture phase, so before React sees them);
//   - the call screens: the incoming-call dialog and the caller's call-state text;
//   - SIP frames and API requests on the control WebSocket, both ways;
//   - getUserMedia, and every RTCPeerConnection's offer/answer, candidates,
//     gathering, ICE and DTLS states;
//   - the first inbound audio RTP packet: once ICE starts checking, getStats is
//     polled every 2 ms until inbound-rtp packetsReceived > 0.
// Times are `performance.timeOrigin + performance.now()`: wall-clock ms with
// sub-ms resolution, comparable across pages of one browser.
// The bench reads `window.__bench.events` and clears it per call.
/* global window, document, Element, MutationObserver, MediaDevices, MessageChannel,
   PerformanceObserver, requestAnimationFrame, MessageEvent */

/** Runs in the page (serialised by Playwright: no closures over module scope). */
export function installProbe(whatIf = {}) {
  if (window.__bench != null) return
  const now = () => performance.timeOrigin + performance.now()
  const B = { events: [], pcs: [], apiPending: new Map() }
  window.__bench = B
  const ev = (name, extra) => B.events.push({ t: now(), name, ...extra })

  // Clicks.
  window.addEventListener(
    'click',
    (e) => {
      const b = e.target instanceof Element ? e.target.closest('button') : null
      if (b != null) ev('click', { label: b.getAttribute('aria-label') || b.textContent.trim() })
    },
    true,
  )

  // The call screens (DOM commit time, before paint).
  let lastState = null
  let lastIncoming = false
  const look = () => {
    const el = document.querySelector('.call-state')
    const state = el == null ? null : el.textContent.split(' · ')[0]
    if (state !== lastState) {
      lastState = state
      ev('ui.state', { state })
    }
    const incoming = document.querySelector('.dialog.incoming') != null
    if (incoming !== lastIncoming) {
      lastIncoming = incoming
      ev(incoming ? 'ui.incoming' : 'ui.incoming-gone')
      if (incoming) afterPaint('ui.incoming.painted')
    }
  }
  // The next frame's paint: a rAF callback runs just before it, a message posted there just after.
  const afterPaint = (name) =>
    requestAnimationFrame(() => {
      const ch = new MessageChannel()
      ch.port1.onmessage = () => ev(name)
      ch.port2.postMessage(null)
    })
  // Main-thread tasks over 50 ms (what delays a screen).
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        B.events.push({
          t: performance.timeOrigin + e.startTime,
          name: 'longtask',
          ms: e.duration,
        })
    }).observe({ type: 'longtask' })
  } catch {
    // no Long Tasks API
  }
  // WebAudio (the ringtone and ringback): creating a context can block the main thread.
  const AC = window.AudioContext
  window.AudioContext = class extends AC {
    constructor(...args) {
      ev('audiocontext.new')
      super(...args)
      ev('audiocontext.new.done')
    }
  }
  new MutationObserver(look).observe(document, {
    subtree: true,
    childList: true,
    characterData: true,
  })

  // The control WebSocket: SIP frames and API requests.
  const sipSummary = (raw) => {
    const first = raw.slice(0, raw.indexOf('\r\n'))
    const cseq = /\r\nCSeq:\s*\d+\s+(\w+)/i.exec(raw)?.[1]
    const start = first.startsWith('SIP/2.0 ') ? first.slice(8).split(' ')[0] : first.split(' ')[0]
    return { start, cseq, callId: /\r\nCall-ID:\s*(\S+)/i.exec(raw)?.[1] }
  }
  const frame = (dir, data) => {
    if (typeof data !== 'string') return
    if (data.startsWith('{"sip":')) {
      try {
        ev(`sip.${dir}`, sipSummary(JSON.parse(data).sip))
      } catch {
        // not ours to judge
      }
      return
    }
    const req = /^\{"id":(\d+),"method":"(\w+)"/.exec(data)
    if (dir === 'out' && req != null) {
      B.apiPending.set(req[1], req[2])
      ev('api.out', { method: req[2] })
      return
    }
    const rep = /^\{"id":(\d+),"(result|error)"/.exec(data)
    if (dir === 'in' && rep != null && B.apiPending.has(rep[1])) {
      const method = B.apiPending.get(rep[1])
      ev('api.in', { method, ok: rep[2] === 'result' })
      B.apiPending.delete(rep[1])
      if (method === 'iceServers' && rep[2] === 'result')
        iceReply = data.slice(data.indexOf('"result"'))
    }
  }
  // What-if `iceCache` (bench --what-if ice-cache): answer iceServers from the last
  // reply in the page, as a node that cached its TURN credentials would (minus ~2 ms).
  let iceReply
  const WS = window.WebSocket
  const send = WS.prototype.send
  WS.prototype.send = function (data) {
    frame('out', data)
    const ice = whatIf.iceCache ? /^\{"id":(\d+),"method":"iceServers"/.exec(data) : null
    if (ice != null && iceReply != null) {
      const text = `{"id":${ice[1]},${iceReply}`
      setTimeout(() => this.dispatchEvent(new MessageEvent('message', { data: text })), 0)
      return
    }
    return send.call(this, data)
  }
  class ProbeWebSocket extends WS {
    constructor(...args) {
      super(...args)
      // Added before the app's own listeners: the time a frame reached the page.
      this.addEventListener('message', (e) => frame('in', e.data))
    }
  }
  window.WebSocket = ProbeWebSocket

  // getUserMedia.
  const gum = MediaDevices.prototype.getUserMedia
  MediaDevices.prototype.getUserMedia = async function (...args) {
    ev('gum')
    try {
      return await gum.apply(this, args)
    } finally {
      ev('gum.done')
    }
  }

  // Peer connections.
  const PC = window.RTCPeerConnection
  const firstAudio = async (pc, id) => {
    while (pc.connectionState !== 'closed') {
      let packets = 0
      let last
      const all = new Map()
      const report = await pc.getStats().catch(() => undefined)
      report?.forEach((s) => {
        all.set(s.id, s)
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          packets += s.packetsReceived ?? 0
          last = s.lastPacketReceivedTimestamp
        }
      })
      if (packets > 0) {
        // getStats results may be cached (Chromium: up to 50 ms), so also estimate the
        // first packet's arrival from the last one's, at one 20 ms Opus frame per packet.
        const estimate = last != null ? last - (packets - 1) * 20 : undefined
        let path
        for (const s of all.values()) {
          if (s.type === 'transport' && s.selectedCandidatePairId) {
            const pair = all.get(s.selectedCandidatePairId)
            const l = all.get(pair?.localCandidateId)
            const r = all.get(pair?.remoteCandidateId)
            path = `${l?.candidateType}/${l?.protocol} -> ${r?.candidateType}/${r?.protocol}`
          }
        }
        ev('rtp.first', { pc: id, packets, lastPacketTs: last, estimate, path })
        return
      }
      await new Promise((r) => setTimeout(r, 2))
    }
  }
  class ProbePeerConnection extends PC {
    constructor(config, ...rest) {
      super(config, ...rest)
      const id = B.pcs.length
      B.pcs.push(this)
      ev('pc.new', {
        pc: id,
        iceServers: (config?.iceServers ?? []).map((s) => [s.urls].flat().join(' ')).join(' | '),
      })
      let polling = false
      this.addEventListener('icecandidate', (e) =>
        ev(e.candidate ? 'pc.candidate' : 'pc.candidate.end', {
          pc: id,
          type: e.candidate?.type,
          protocol: e.candidate?.protocol,
          address: e.candidate?.address,
          relayProtocol: e.candidate?.relayProtocol,
        }),
      )
      this.addEventListener('icegatheringstatechange', () =>
        ev(`pc.gathering.${this.iceGatheringState}`, { pc: id }),
      )
      this.addEventListener('iceconnectionstatechange', () => {
        ev(`pc.ice.${this.iceConnectionState}`, { pc: id })
        const s = this.iceConnectionState
        if (!polling && (s === 'checking' || s === 'connected' || s === 'completed')) {
          polling = true
          void firstAudio(this, id)
        }
      })
      // A remote track starts muted and unmutes when its first RTP packet arrives.
      this.addEventListener('track', (e) => {
        ev('pc.track', { pc: id, muted: e.track.muted })
        e.track.addEventListener('unmute', () => ev('track.unmute', { pc: id }), { once: true })
      })
      this.addEventListener('connectionstatechange', () =>
        ev(`pc.conn.${this.connectionState}`, { pc: id }),
      )
    }
  }
  for (const m of ['createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription']) {
    const orig = PC.prototype[m]
    ProbePeerConnection.prototype[m] = async function (...args) {
      const id = B.pcs.indexOf(this)
      ev(`pc.${m}`, { pc: id })
      try {
        return await orig.apply(this, args)
      } finally {
        ev(`pc.${m}.done`, { pc: id })
      }
    }
  }
  window.RTCPeerConnection = ProbePeerConnection
}
