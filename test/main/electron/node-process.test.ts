import { EventEmitter } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ToHost } from '../../../src/main/electron/host-protocol.js'
import { NodeSupervisor } from '../../../src/main/electron/node-process.js'
import type { NodeProcessState, UtilityChild } from '../../../src/main/electron/node-process.js'
import { RestartPolicy } from '../../../src/main/electron/restart-policy.js'
import { quietLogger } from './fakes/electron-fakes.js'

const TOKEN = 'T'.repeat(43)
const READY = { type: 'ready', port: 4567, token: TOKEN, peerId: '12D3KooWtest', dataDir: '/d' }

/** A utility process that does what `behave` says with each message it gets. */
class FakeChild extends EventEmitter {
  readonly got: ToHost[] = []
  killed = false
  constructor(readonly behave: (child: FakeChild, msg: ToHost) => void) {
    super()
  }
  postMessage(msg: ToHost): void {
    this.got.push(msg)
    queueMicrotask(() => this.behave(this, msg))
  }
  kill(): boolean {
    this.killed = true
    setTimeout(() => this.emit('exit', 15), 1)
    return true
  }
  reply(msg: unknown): void {
    this.emit('message', msg)
  }
  exit(code: number): void {
    this.emit('exit', code)
  }
}

const healthy = (c: FakeChild, m: ToHost): void => (m.type === 'start' ? c.reply(READY) : c.exit(0))

function supervise(behaviours: Array<(c: FakeChild, m: ToHost) => void>, opts = {}) {
  const children: FakeChild[] = []
  const states: NodeProcessState[] = []
  const sup = new NodeSupervisor({
    modulePath: '/app/dist/electron/node-host.mjs',
    args: ['--no-mdns'],
    fork: (path, args, options) => {
      expect(path).toBe('/app/dist/electron/node-host.mjs')
      expect(options.serviceName).toBe('Kaiwa node')
      const child = new FakeChild(behaviours[children.length] ?? healthy)
      children.push(child)
      return child as unknown as UtilityChild
    },
    log: quietLogger(),
    onState: (s) => states.push(s),
    restart: new RestartPolicy({ delaysMs: [5, 5] }),
    ...opts,
  })
  return { sup, children, states }
}

const until = (cond: () => boolean) =>
  vi.waitFor(() => expect(cond()).toBe(true), { timeout: 2000 })

afterEach(() => vi.useRealTimers())

describe('NodeSupervisor', () => {
  it('starts the host with the flags and reports its API', async () => {
    const { sup, children, states } = supervise([healthy])
    sup.start()
    await until(() => sup.state.kind === 'ready')
    expect(children[0]!.got[0]).toEqual({ type: 'start', args: ['--no-mdns'] })
    expect(sup.connection()).toEqual({
      url: 'http://127.0.0.1:4567',
      token: TOKEN,
      peerId: '12D3KooWtest',
      dataDir: '/d',
    })
    expect(states.map((s) => s.kind)).toEqual(['starting', 'ready'])
    await sup.stop()
    expect(children[0]!.got.at(-1)).toEqual({ type: 'stop' })
    expect(sup.state).toEqual({ kind: 'stopped', reason: 'stopped', final: true })
    expect(children[0]!.killed).toBe(false)
  })

  it('restarts a crashed node with a new connection, then gives up', async () => {
    const crashAfterReady = (c: FakeChild, m: ToHost): void => {
      if (m.type !== 'start') return
      c.reply(READY)
      setTimeout(() => c.exit(134), 5)
    }
    const { sup, children, states } = supervise([crashAfterReady, crashAfterReady, crashAfterReady])
    sup.start()
    await until(() => sup.state.kind === 'stopped' && sup.state.final)
    expect(children.length).toBe(3)
    expect(states.map((s) => s.kind)).toEqual([
      'starting',
      'ready',
      'stopped',
      'starting',
      'ready',
      'stopped',
      'starting',
      'ready',
      'stopped',
    ])
    expect(sup.state).toMatchObject({ reason: expect.stringContaining('code 134') })
    expect(sup.connection()).toBeUndefined()
  })

  it('does not restart after a configuration error', async () => {
    const badConfig = (c: FakeChild, m: ToHost): void => {
      if (m.type !== 'start') return
      c.reply({ type: 'failed', message: 'config file /d/config.json is invalid', usage: true })
      c.exit(1)
    }
    const { sup, children } = supervise([badConfig])
    sup.start()
    await until(() => sup.state.kind === 'stopped')
    expect(sup.state).toEqual({
      kind: 'stopped',
      reason: 'config file /d/config.json is invalid',
      final: true,
    })
    await new Promise((r) => setTimeout(r, 30))
    expect(children.length).toBe(1)
  })

  it('retries other start failures (a data directory still locked, say)', async () => {
    const locked = (c: FakeChild, m: ToHost): void => {
      if (m.type !== 'start') return
      c.reply({ type: 'failed', message: 'the data directory is in use', usage: false })
      c.exit(1)
    }
    const { sup, children } = supervise([locked, healthy])
    sup.start()
    await until(() => sup.state.kind === 'ready')
    expect(children.length).toBe(2)
    await sup.stop()
  })

  it('kills a node that does not start in time', async () => {
    const silent = (): void => {}
    const { sup, children } = supervise([silent, healthy], { readyTimeoutMs: 20 })
    sup.start()
    await until(() => sup.state.kind === 'ready')
    expect(children[0]!.killed).toBe(true)
    await sup.stop()
  })

  it('kills a node that does not stop in time', async () => {
    const stubborn = (c: FakeChild, m: ToHost): void => {
      if (m.type === 'start') c.reply(READY)
    }
    const { sup, children } = supervise([stubborn], { stopTimeoutMs: 20 })
    sup.start()
    await until(() => sup.state.kind === 'ready')
    await sup.stop()
    expect(children[0]!.killed).toBe(true)
    await until(() => sup.state.kind === 'stopped')
    expect(children.length).toBe(1)
  })

  it('ignores malformed host messages', async () => {
    const noisy = (c: FakeChild, m: ToHost): void => {
      if (m.type !== 'start') return c.exit(0)
      c.reply({ type: 'ready', port: 'x' })
      c.reply('hello')
      c.reply({ ...READY, token: 'short' })
      c.reply(READY)
    }
    const { sup } = supervise([noisy])
    sup.start()
    await until(() => sup.state.kind === 'ready')
    expect(sup.connection()?.token).toBe(TOKEN)
    await sup.stop()
  })
})
