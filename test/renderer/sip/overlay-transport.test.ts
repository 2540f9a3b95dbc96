/**
 * OverlayTransport against a channel the test controls: sip.js's Transport
 * contract (states, callbacks, promises, loop detection, no auto-reconnect).
 */
import { describe, expect, it } from 'vitest'
import { StateTransitionError, TransportState } from 'sip.js'
import { OverlayTransport } from '../../../src/renderer/sip/overlay-transport.js'
import type { SipBridgeChannel } from '../../../src/renderer/sip/overlay-transport.js'

const { Connecting, Connected, Disconnecting, Disconnected } = TransportState

class FakeChannel implements SipBridgeChannel {
  sent: string[] = []
  connects = 0
  closes = 0
  failSend = false
  private messageCbs = new Set<(raw: string) => void>()
  private closeCbs = new Set<(err: Error) => void>()
  private pending: { resolve: () => void; reject: (e: Error) => void } | undefined
  private isOpen = false

  get open(): boolean {
    return this.isOpen
  }
  get listeners(): number {
    return this.messageCbs.size + this.closeCbs.size
  }
  send(raw: string): void {
    if (this.failSend || !this.isOpen) throw new Error('channel send failed')
    this.sent.push(raw)
  }
  onMessage(cb: (raw: string) => void): () => void {
    this.messageCbs.add(cb)
    return () => this.messageCbs.delete(cb)
  }
  onClose(cb: (err: Error) => void): () => void {
    this.closeCbs.add(cb)
    return () => this.closeCbs.delete(cb)
  }
  connect(): Promise<void> {
    this.connects++
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }))
  }
  close(): void {
    this.closes++
    this.isOpen = false
  }
  // ---- test controls ----
  accept(): void {
    this.isOpen = true
    this.pending?.resolve()
  }
  refuse(err = new Error('refused')): void {
    this.pending?.reject(err)
  }
  deliver(raw: string): void {
    for (const cb of this.messageCbs) cb(raw)
  }
  drop(): void {
    this.isOpen = false
    for (const cb of this.closeCbs) cb(new Error('bridge lost'))
  }
}

const quiet = { error() {}, warn() {}, debug() {} }
const tick = () => new Promise((r) => setTimeout(r, 0))

function setup() {
  const channel = new FakeChannel()
  const t = new OverlayTransport(quiet, { channel })
  const states: TransportState[] = []
  const events: string[] = []
  const received: string[] = []
  t.stateChange.addListener((s) => states.push(s))
  t.onConnect = () => events.push(`connect:${t.state}`)
  t.onDisconnect = (err) => events.push(`disconnect:${t.state}:${err?.message ?? 'none'}`)
  t.onMessage = (m) => received.push(m)
  return { channel, t, states, events, received }
}

async function connected() {
  const s = setup()
  const p = s.t.connect()
  await tick()
  s.channel.accept()
  await p
  return s
}

describe('OverlayTransport', () => {
  it('starts disconnected, uses TCP in Via, and refuses to send', async () => {
    const { t } = setup()
    expect(t.state).toBe(Disconnected)
    expect(t.isConnected()).toBe(false)
    expect(t.protocol).toBe('TCP')
    await expect(t.send('x')).rejects.toThrow('Not connected.')
  })

  it('connects: Connecting before connect() returns, Connected and onConnect before it resolves', async () => {
    const { t, channel, states, events } = setup()
    const p = t.connect()
    expect(t.state).toBe(Connecting)
    expect(t.connect()).toBe(p) // already connecting: the same promise
    await tick()
    expect(channel.connects).toBe(1)
    channel.accept()
    await p
    expect(t.state).toBe(Connected)
    expect(t.isConnected()).toBe(true)
    expect(states).toEqual([Connecting, Connected])
    expect(events).toEqual(['connect:Connected'])
    await t.connect() // already connected: no transition
    expect(states).toEqual([Connecting, Connected])
  })

  it('passes messages both ways only while connected, and skips CRLF keep-alives', async () => {
    const { t, channel, received } = await connected()
    await t.send('OPTIONS sip:x SIP/2.0\r\n\r\n')
    expect(channel.sent).toEqual(['OPTIONS sip:x SIP/2.0\r\n\r\n'])
    channel.deliver('SIP/2.0 200 OK\r\n\r\n')
    channel.deliver('\r\n\r\n')
    expect(received).toEqual(['SIP/2.0 200 OK\r\n\r\n'])
    channel.failSend = true
    await expect(t.send('x')).rejects.toThrow('channel send failed')
    await t.disconnect()
    channel.deliver('late')
    expect(received).toHaveLength(1)
  })

  it('a failed connect goes back to Disconnected and rejects, without onDisconnect', async () => {
    const { t, channel, states, events } = setup()
    const p = t.connect()
    await tick()
    channel.refuse(new Error('401'))
    await expect(p).rejects.toThrow('401')
    expect(t.state).toBe(Disconnected)
    expect(states).toEqual([Connecting, Disconnected])
    expect(events).toEqual([])
  })

  it('a lost channel: Disconnected with an error, and no reconnection', async () => {
    const { t, channel, states, events } = await connected()
    channel.drop()
    expect(t.state).toBe(Disconnected)
    expect(states).toEqual([Connecting, Connected, Disconnected])
    expect(events).toEqual(['connect:Connected', 'disconnect:Disconnected:bridge lost'])
    await new Promise((r) => setTimeout(r, 50))
    expect(channel.connects).toBe(1)
    expect(t.state).toBe(Disconnected)
  })

  it('disconnects: Disconnecting before disconnect() returns, onDisconnect without error', async () => {
    const { t, channel, states, events } = await connected()
    const p = t.disconnect()
    expect(t.state).toBe(Disconnecting)
    expect(t.disconnect()).toBe(p)
    expect(channel.closes).toBe(1)
    await p
    expect(t.state).toBe(Disconnected)
    expect(states).toEqual([Connecting, Connected, Disconnecting, Disconnected])
    expect(events).toEqual(['connect:Connected', 'disconnect:Disconnecting:none'])
    await t.disconnect() // already disconnected
    expect(states).toHaveLength(4)
    channel.drop() // a late close report changes nothing
    expect(events).toHaveLength(2)
  })

  it('disconnect() while connecting aborts the connect; a late channel open is ignored', async () => {
    const { t, channel, states } = setup()
    const c = t.connect()
    await tick()
    const d = t.disconnect()
    expect(t.state).toBe(Disconnecting)
    await expect(c).rejects.toThrow('Connect aborted.')
    channel.accept()
    await d
    await tick()
    expect(t.state).toBe(Disconnected)
    expect(states).toEqual([Connecting, Disconnecting, Disconnected])
  })

  it('connect() while disconnecting aborts the disconnect and connects again', async () => {
    const { t, channel, states } = await connected()
    const d = t.disconnect()
    const c = t.connect()
    expect(t.state).toBe(Connecting)
    await expect(d).rejects.toThrow('Disconnect aborted.')
    await tick()
    expect(channel.connects).toBe(2)
    channel.accept()
    await c
    expect(t.state).toBe(Connected)
    expect(states).toEqual([Connecting, Connected, Disconnecting, Connecting, Connected])
  })

  it('detects connect() called synchronously from a callback; asynchronous is fine', async () => {
    const { t, channel } = await connected()
    let loop: Promise<void> | undefined
    t.onDisconnect = () => {
      loop = t.connect()
    }
    channel.drop()
    await expect(loop).rejects.toBeInstanceOf(StateTransitionError)
    expect(t.state).toBe(Disconnected)

    let again: Promise<void> | undefined
    t.onDisconnect = undefined
    const c = t.connect()
    await tick()
    channel.accept()
    await c
    const reconnect = (s: TransportState) => {
      if (s === Disconnected) again = Promise.resolve().then(() => t.connect())
    }
    t.stateChange.addListener(reconnect)
    channel.drop()
    t.stateChange.removeListener(reconnect)
    await tick()
    expect(t.state).toBe(Connecting)
    await tick()
    channel.accept()
    await again
    expect(t.state).toBe(Connected)
  })

  it('keeps its state machine consistent when a callback throws', async () => {
    const { t, channel } = setup()
    t.onConnect = () => {
      throw new Error('app bug')
    }
    const c = t.connect()
    await tick()
    channel.accept()
    await c
    expect(t.state).toBe(Connected)
    await t.disconnect()
    expect(t.state).toBe(Disconnected)
  })

  it('dispose() disconnects and lets go of the channel', async () => {
    const { t, channel } = await connected()
    expect(channel.listeners).toBe(2)
    await t.dispose()
    expect(t.state).toBe(Disconnected)
    expect(channel.listeners).toBe(0)
  })
})
