/**
 * The bundles' stand-in for node-datachannel (rolldown.config.mjs): nothing is
 * loaded until first use, and then callers get libdatachannel's own classes
 * (`new`, `instanceof`, subclasses, statics), as @libp2p/webrtc and the media
 * anchor use them. Two real peer connections negotiate a data channel through it.
 */
import { describe, expect, it } from 'vitest'
import ndc, {
  RTCPeerConnection,
  RTCSessionDescription,
  datachannelLoaded,
  lazy,
} from '../../../src/overlay/node/lazy-datachannel.js'

describe('lazy node-datachannel', () => {
  it('loads libdatachannel at first use, not at import', () => {
    expect(datachannelLoaded()).toBe(false)
    expect(typeof ndc.getLibraryVersion()).toBe('string')
    expect(datachannelLoaded()).toBe(true)
  })

  it('builds the real classes: instanceof, subclasses and prototypes hold', () => {
    const desc = new RTCSessionDescription({ type: 'offer', sdp: 'v=0\r\n' })
    expect(desc).toBeInstanceOf(RTCSessionDescription)
    expect(desc.type).toBe('offer')
    class Tagged extends RTCPeerConnection {
      tag(): string {
        return 'mine'
      }
    }
    const pc = new Tagged()
    try {
      expect(pc).toBeInstanceOf(Tagged)
      expect(pc).toBeInstanceOf(RTCPeerConnection)
      expect(pc.tag()).toBe('mine')
      expect(typeof pc.createDataChannel).toBe('function')
    } finally {
      pc.close()
    }
  })

  it('two peer connections open a data channel through the stand-ins', async () => {
    const a = new RTCPeerConnection()
    const b = new RTCPeerConnection()
    try {
      a.onicecandidate = (e) => void (e.candidate != null && b.addIceCandidate(e.candidate))
      b.onicecandidate = (e) => void (e.candidate != null && a.addIceCandidate(e.candidate))
      const got = new Promise<string>((resolve) => {
        b.ondatachannel = ({ channel }) => {
          channel.onmessage = (m) => resolve(String(m.data))
        }
      })
      const ch = a.createDataChannel('t')
      ch.onopen = () => ch.send('hello')
      await a.setLocalDescription(await a.createOffer())
      await b.setRemoteDescription(a.localDescription!)
      await b.setLocalDescription(await b.createAnswer())
      await a.setRemoteDescription(b.localDescription!)
      expect(await got).toBe('hello')
    } finally {
      a.close()
      b.close()
    }
  }, 30_000)

  it('an object stand-in forwards reads, writes and key listing', () => {
    let loads = 0
    const real = { x: 1 }
    const o = lazy(() => (loads++, real))
    expect(loads).toBe(0)
    o.x = 2
    expect(real.x).toBe(2)
    expect(Object.keys(o)).toEqual(['x'])
    expect('x' in o).toBe(true)
  })
})
