/**
 * One compliance suite for every KaiwaBridge (src/shared/api/bridge.ts), as
 * js-libp2p's interface tests are: `bridgeCompliance(setup)` runs the same
 * tests against whatever `setup` builds. Each implementation's test file
 * provides a harness with a real node behind the bridge (test-node.ts) and
 * the host's own edges (a browser socket, or Electron's IPC with the real
 * main-process handlers), and keeps beside it only what is specific to it.
 *
 * Covered, member by member: `kind`; `call` (outputs validated, errors as
 * ApiError with the contract's code, contract-breaking replies refused);
 * `onEvent` (validated, filtered, every listener, unsubscribe, a throwing
 * listener does not starve the others); `connection` / `onConnection` (open,
 * the node lost and back, in-flight calls failed, later ones waiting);
 * `onLink` (held until someone listens, validated, unsubscribe; never on the
 * web); `sip()` (a user agent registers through a pipe, send/close rules, a
 * pipe lost with the node, opening with no node).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ConnectionState, KaiwaBridge, OpenedLink } from '../../../src/shared/api/bridge.js'
import type { ApiEvent } from '../../../src/shared/api/contract.js'
import { ApiError } from '../../../src/renderer/bridge/api-error.js'
import { channelFromPipe } from '../../../src/renderer/sip/bridge-channel.js'
import { createKaiwaUserAgent } from '../../../src/renderer/sip/kaiwa-ua.js'
import { message, settings, usage } from './test-node.js'
import type { TestNode } from './test-node.js'

export interface BridgeHarness {
  /** The implementation under test, connected (or connecting) to `node`. */
  bridge: KaiwaBridge
  /** The real node behind it. */
  node: TestNode
  /** The node goes away, and the host notices as it would in production. */
  loseNode(): Promise<void>
  /** The node is back on the same port, and the host notices. */
  restoreNode(): Promise<void>
  /** A bridge of the same kind whose node answers `usage` outside the contract. */
  brokenReplies(): Promise<KaiwaBridge>
  /** The host opens a `kaiwa:` link (any value: it may be malformed); absent where links never come. */
  openLink?: (link: unknown) => void
  teardown(): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** The ApiError code a call ends with, or what else happened. */
const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (err: unknown) => (err instanceof ApiError ? err.code : `not an ApiError: ${String(err)}`),
  )

/**
 * Waits until node events reach the bridge: an event socket may still be
 * opening after a call went through (Electron's main process keeps one apart
 * from its HTTP calls). Broadcasts `usage` until one arrives.
 */
async function eventsFlowing(h: BridgeHarness): Promise<void> {
  let seen = false
  const off = h.bridge.onEvent(() => {
    seen = true
  })
  try {
    await expect
      .poll(
        () => {
          if (!seen) h.node.broadcast('usage', usage)
          return seen
        },
        { interval: 25, timeout: 5000 },
      )
      .toBe(true)
  } finally {
    off()
  }
  await sleep(50) // let probes still in flight land before the test listens
}

function until(bridge: KaiwaBridge, state: ConnectionState): Promise<void> {
  if (bridge.connection === state) return Promise.resolve()
  return new Promise((resolve) => {
    const off = bridge.onConnection((s) => {
      if (s === state) {
        off()
        resolve()
      }
    })
  })
}

export function bridgeCompliance(setup: () => Promise<BridgeHarness>): void {
  describe('KaiwaBridge compliance', () => {
    let h: BridgeHarness
    const cleanup: Array<() => Promise<void> | void> = []
    const harness = async (): Promise<BridgeHarness> => {
      h = await setup()
      cleanup.push(() => h.teardown())
      return h
    }
    afterEach(async () => {
      for (const c of cleanup.splice(0).reverse()) await c()
    })

    describe('call', () => {
      it('resolves with the contract output, even when made right away', async () => {
        const { bridge } = await harness()
        expect(['web', 'electron']).toContain(bridge.kind)
        const first = bridge.call('settings', {})
        expect(await first).toEqual(settings)
        expect((await bridge.call('usage', {})).role).toBe('client')
      })

      it("rejects with an ApiError carrying the contract's code", async () => {
        const { bridge } = await harness()
        const err = await bridge.call('lookup', { name: 'nobody' }).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(ApiError)
        expect(err).toMatchObject({ name: 'ApiError', code: 'not_found' })
        expect((err as ApiError).message).toMatch(/nobody/)
        // Input the contract refuses, and a method this node does not implement.
        expect(await codeOf(bridge.call('lookup', { name: '' }))).toBe('invalid_input')
        expect(await codeOf(bridge.call('about', {}))).toBe('internal')
        // The bridge keeps working after errors.
        expect(await bridge.call('settings', {})).toEqual(settings)
      })

      it('refuses a reply that breaks the contract with `invalid_reply`', async () => {
        await harness()
        const broken = await h.brokenReplies()
        const err = await broken.call('usage', {}).catch((e: unknown) => e)
        expect(err).toBeInstanceOf(ApiError)
        expect(err).toMatchObject({ code: 'invalid_reply' })
        expect((err as ApiError).message).toMatch(/usage/)
      })
    })

    describe('onEvent', () => {
      it('delivers contract-valid events to every listener and drops the rest', async () => {
        const { bridge, node } = await harness()
        await bridge.call('usage', {})
        await eventsFlowing(h)
        const one: ApiEvent[] = []
        const two: ApiEvent[] = []
        bridge.onEvent((e) => one.push(e))
        bridge.onEvent((e) => two.push(e))
        node.broadcast('message', { ...message, status: 'bogus' })
        node.broadcast('no-such-event', {})
        node.broadcast('message', message)
        node.broadcast('usage', usage)
        await expect.poll(() => one.length).toBe(2)
        expect(one).toEqual([
          { event: 'message', data: message },
          { event: 'usage', data: usage },
        ])
        expect(two).toEqual(one)
      })

      it('stops delivering to a listener that unsubscribed; a throwing one harms no other', async () => {
        const { bridge, node } = await harness()
        await bridge.call('usage', {})
        await eventsFlowing(h)
        const gone: ApiEvent[] = []
        const kept: ApiEvent[] = []
        const off = bridge.onEvent((e) => gone.push(e))
        const reported = vi.spyOn(console, 'error').mockImplementation(() => {})
        cleanup.push(() => reported.mockRestore())
        bridge.onEvent(() => {
          throw new Error('a broken screen')
        })
        bridge.onEvent((e) => kept.push(e))
        off()
        node.broadcast('usage', usage)
        node.broadcast('message', message)
        await expect.poll(() => kept.length).toBe(2)
        expect(gone).toEqual([])
        // Reported, not swallowed.
        expect(reported).toHaveBeenCalled()
      })
    })

    describe('connection', () => {
      it('fails calls in flight when the node goes, waits with later ones, and reconnects', async () => {
        const { bridge } = await harness()
        await bridge.call('usage', {})
        expect(bridge.connection).toBe('open')
        const states: ConnectionState[] = []
        const unheard: ConnectionState[] = []
        bridge.onConnection((s) => states.push(s))
        bridge.onConnection((s) => unheard.push(s))()

        const inFlight = codeOf(bridge.call('lookup', { name: 'slow' }))
        await sleep(100)
        await h.loseNode()
        expect(await inFlight).toBe('disconnected')
        await until(bridge, 'connecting')
        expect(states).toContain('connecting')

        // Made while the node is away: waits for it.
        const waiting = bridge.call('usage', {})
        await h.restoreNode()
        await until(bridge, 'open')
        expect((await waiting).role).toBe('client')
        expect(states.at(-1)).toBe('open')
        expect(states).not.toContain('closed')
        expect(unheard).toEqual([])
        // Events flow again on the new connection.
        await eventsFlowing(h)
      })
    })

    describe('onLink', () => {
      it('holds links until someone listens, drops malformed ones, and unsubscribes', async () => {
        const { bridge, node } = await harness()
        await bridge.call('usage', {})
        const got: OpenedLink[] = []
        const open = h.openLink
        if (open === undefined) {
          // This host never opens links, and a node cannot make one up.
          node.broadcast('link', { name: 'mallory' })
          const off = bridge.onLink((l) => got.push(l))
          await eventsFlowing(h)
          off()
          expect(got).toEqual([])
          return
        }
        open({ name: 'alice', fingerprint: 'abcd-efgh-ijkl-mnop' })
        open({ nonsense: true })
        await sleep(50)
        const off = bridge.onLink((l) => got.push(l))
        await expect.poll(() => got.length).toBe(1)
        open({ name: 'bob' })
        await expect.poll(() => got.length).toBe(2)
        off()
        open({ name: 'carol' })
        await sleep(50)
        expect(got).toEqual([
          { name: 'alice', fingerprint: 'abcd-efgh-ijkl-mnop' },
          { name: 'bob' },
        ])
      })
    })

    describe('sip', () => {
      it('gives a SIP user agent its own pipe to register through', async () => {
        const { bridge, node } = await harness()
        const ua = await createKaiwaUserAgent({
          channel: channelFromPipe(bridge.sip()),
          user: 'alice',
        })
        cleanup.push(() => ua.stop())
        expect(await ua.register()).toEqual({ status: 200, reason: 'OK' })
        expect(node.sipSeen).toContain('REGISTER')
      })

      it('refuses to send unless open, and reports nothing when the UI closes it', async () => {
        const { bridge } = await harness()
        const pipe = bridge.sip()
        expect(pipe.isOpen).toBe(false)
        expect(() => pipe.send('OPTIONS sip:x SIP/2.0\r\n\r\n')).toThrow(/not open/)
        await pipe.open()
        expect(pipe.isOpen).toBe(true)
        const closes: Error[] = []
        pipe.onClose((e) => closes.push(e))
        pipe.close()
        expect(pipe.isOpen).toBe(false)
        expect(() => pipe.send('OPTIONS sip:x SIP/2.0\r\n\r\n')).toThrow(/not open/)
        pipe.close() // twice is harmless
        await sleep(100)
        expect(closes).toEqual([])
        // It opens again.
        await pipe.open()
        expect(pipe.isOpen).toBe(true)
        pipe.close()
      })

      it('reports a pipe lost with the node once, with an Error, to listeners still there', async () => {
        const { bridge } = await harness()
        const pipe = bridge.sip()
        await pipe.open()
        const closes: Error[] = []
        const unheard: Error[] = []
        pipe.onClose((e) => closes.push(e))
        pipe.onClose((e) => unheard.push(e))()
        await h.loseNode()
        await expect.poll(() => closes.length).toBe(1)
        expect(closes[0]).toBeInstanceOf(Error)
        expect(pipe.isOpen).toBe(false)
        expect(unheard).toEqual([])
        // No node, no pipe: opening rejects instead of hanging.
        await expect(bridge.sip().open()).rejects.toThrow()
        await sleep(100)
        expect(closes).toHaveLength(1)
      })
    })
  })
}
