/**
 * The TURN scope of overlay WebRTC dials (turn-dial-scope.ts): only a dial
 * started inside `viaTurn` gets TURN (relay candidates only); every other
 * dial, and anything running at the same time outside the scope, keeps STUN
 * only. With our own TURN server on loopback, a node-datachannel peer
 * connection built from the scoped configuration really gathers a relay
 * candidate, and nothing else.
 */
import { RTCPeerConnection } from 'node-datachannel/polyfill'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { overlayRtcConfiguration } from '../../../src/overlay/node/libp2p-factory.js'
import { inTurnScope, turnOnly, viaTurn } from '../../../src/overlay/node/turn-dial-scope.js'
import { TurnServer } from '../../../src/overlay/turn/turn-server.js'
import { issueTurnCredentials } from '../../../src/overlay/turn/turn-credentials.js'

const SECRET = 'turn-dial-scope-test-secret-0123456789'

describe('the TURN scope of a dial', () => {
  it('is seen through awaits and timers inside viaTurn, and never outside it', async () => {
    expect(inTurnScope()).toBe(false)
    const seen: boolean[] = []
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const inside = viaTurn(async () => {
      seen.push(inTurnScope())
      await gate
      await new Promise((r) => setTimeout(r, 5))
      seen.push(inTurnScope())
      return 'dialled'
    })
    // Something else running meanwhile (another dial, an answer) is outside it.
    const outside = (async () => {
      await new Promise((r) => setTimeout(r, 1))
      return inTurnScope()
    })()
    expect(await outside).toBe(false)
    release()
    expect(await inside).toBe('dialled')
    expect(seen).toEqual([true, true])
    expect(inTurnScope()).toBe(false)
  })

  it('keeps TURN over UDP with credentials only', () => {
    const out = turnOnly([
      { urls: ['stun:203.0.113.2:3478'] },
      {
        urls: ['turn:203.0.113.2:3478?transport=udp', 'turn:203.0.113.2:3478?transport=tcp'],
        username: '1763700000:12D3KooWabc',
        credential: 'pw',
      },
      { urls: ['turn:203.0.113.3:3478'] },
      { urls: ['turns:203.0.113.2:443?transport=tcp'], username: 'u', credential: 'p' },
    ])
    expect(out).toEqual([
      {
        urls: ['turn:203.0.113.2:3478?transport=udp'],
        username: '1763700000:12D3KooWabc',
        credential: 'pw',
      },
    ])
  })
})

describe('overlay WebRTC configuration', () => {
  let server: TurnServer
  let port: number

  beforeAll(async () => {
    server = new TurnServer({
      secret: SECRET,
      host: '127.0.0.1',
      port: 43020,
      allowLoopback: true,
      relayPortRange: [43300, 43349],
    })
    port = (await server.listen()).port
  })
  afterAll(async () => {
    await server?.close()
  })

  const servers = (): RTCIceServer[] => {
    const c = issueTurnCredentials(SECRET, '12D3KooWtest', 600)
    return [
      { urls: [`stun:127.0.0.1:${port}`] },
      {
        urls: [`turn:127.0.0.1:${port}?transport=udp`],
        username: c.username,
        credential: c.password,
      },
    ]
  }
  const config = overlayRtcConfiguration({
    iceServers: async () => [{ urls: [`stun:127.0.0.1:${port}`] }],
    turnServers: async () => turnOnly(servers()),
  })

  it('is STUN only outside the scope, TURN with relay candidates only inside it', async () => {
    const plain = await config()
    expect(plain.iceTransportPolicy).toBeUndefined()
    expect(plain.iceServers!.flatMap((s) => [s.urls].flat())).toEqual([`stun:127.0.0.1:${port}`])
    const relay = await viaTurn(() => config())
    expect(relay.iceTransportPolicy).toBe('relay')
    expect(relay.iceServers!.flatMap((s) => [s.urls].flat())).toEqual([
      `turn:127.0.0.1:${port}?transport=udp`,
    ])
    // Encoded for libdatachannel (its URL parser splits the user at ':').
    expect(relay.iceServers![0]!.username).toMatch(/%3A/)
  })

  it('gathers a relay candidate from our TURN server, and only that', async () => {
    const pc = new RTCPeerConnection(await viaTurn(() => config()))
    try {
      const candidates: string[] = []
      const done = new Promise<void>((resolve) => {
        pc.onicecandidate = (e) => {
          if (e.candidate?.candidate) candidates.push(e.candidate.candidate)
        }
        pc.onicegatheringstatechange = () => {
          if (pc.iceGatheringState === 'complete') resolve()
        }
      })
      pc.createDataChannel('files')
      await pc.setLocalDescription(await pc.createOffer())
      await Promise.race([done, new Promise((r) => setTimeout(r, 15_000))])
      // Trickled, or already in the description when gathering ended before it was set.
      for (const line of (pc.localDescription?.sdp ?? '').split(/\r?\n/))
        if (line.startsWith('a=candidate:')) candidates.push(line)
      expect(candidates.length).toBeGreaterThan(0)
      expect(candidates.every((c) => / typ relay /.test(c))).toBe(true)
      expect(candidates.some((c) => c.includes('127.0.0.1'))).toBe(true)
      expect(server.stats().allocations).toBeGreaterThanOrEqual(1)
    } finally {
      pc.close()
    }
  }, 30_000)
})
