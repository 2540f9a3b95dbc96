/** A warm peer connection: made once when the user is about to call, taken by the call, closed when idle. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { WarmConnections } from '../../../src/renderer/sip/warm-connection.js'
import { peerConnectionConfiguration } from '../../../src/renderer/sip/media-handler.js'

/** Records what the browser's RTCPeerConnection would be asked (no browser in unit tests). */
class RecordingConnection {
  signalingState: RTCSignalingState = 'stable'
  connectionState: RTCPeerConnectionState = 'new'
  closed = 0
  constructor(readonly config: RTCConfiguration) {}
  close(): void {
    this.closed++
    this.connectionState = 'closed'
  }
}

const servers: RTCIceServer[] = [
  { urls: ['stun:192.0.2.1:3478'] },
  { urls: ['turn:192.0.2.1:3478'], username: 'u', credential: 'p' },
]

function setup(idleMs = 1000) {
  const made: RecordingConnection[] = []
  const fetches = vi.fn(async () => servers)
  const warm = new WarmConnections({
    iceServers: fetches,
    configuration: peerConnectionConfiguration,
    create: (config) => {
      const pc = new RecordingConnection(config)
      made.push(pc)
      return pc as unknown as RTCPeerConnection
    },
    idleMs,
  })
  return { warm, made, fetches }
}

describe('WarmConnections', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('makes one gathering connection per intent, with the call configuration, and hands it over once', async () => {
    const { warm, made, fetches } = setup()
    warm.prepare()
    warm.prepare() // every keystroke: still one fetch, one connection
    const ice = await warm.iceServers()
    expect(ice).toBe(servers)
    expect(fetches).toHaveBeenCalledTimes(1)
    expect(made).toHaveLength(1)
    expect(made[0]!.config).toEqual(peerConnectionConfiguration(servers))
    expect(made[0]!.config.iceCandidatePoolSize).toBe(1)
    const pc = warm.take(ice!)
    expect(pc).toBe(made[0])
    expect(made[0]!.closed).toBe(0)
    // Taken: nothing waits any more, and the call owns it (the idle timer does not close it).
    expect(warm.iceServers()).toBeUndefined()
    expect(warm.take(ice!)).toBeUndefined()
    vi.advanceTimersByTime(5000)
    expect(made[0]!.closed).toBe(0)
  })

  it('closes a connection no call took (its TURN allocation is released)', async () => {
    const { warm, made } = setup(1000)
    warm.prepare()
    await warm.iceServers()
    vi.advanceTimersByTime(999)
    warm.prepare() // typing again keeps it
    vi.advanceTimersByTime(999)
    expect(made[0]!.closed).toBe(0)
    vi.advanceTimersByTime(1)
    expect(made[0]!.closed).toBe(1)
    expect(warm.iceServers()).toBeUndefined()
    // The next intent makes a new one.
    warm.prepare()
    await warm.iceServers()
    expect(made).toHaveLength(2)
  })

  it('gives nothing for other servers, or a connection that is no longer fresh', async () => {
    const { warm, made } = setup()
    warm.prepare()
    await warm.iceServers()
    expect(warm.take([...servers])).toBeUndefined() // not the servers it gathers with
    const ice = await warm.iceServers()
    made[0]!.signalingState = 'have-local-offer'
    expect(warm.take(ice!)).toBeUndefined()
    expect(made[0]!.closed).toBe(1)
  })

  it('takes nothing while the servers are still on their way, and makes no connection after close', async () => {
    const { warm, made } = setup()
    warm.prepare()
    expect(warm.take(servers)).toBeUndefined()
    warm.close()
    await Promise.resolve()
    await Promise.resolve()
    expect(made).toHaveLength(0)
  })
})
