import { describe, expect, it, vi } from 'vitest'
import type { FromHost } from '../../../src/main/electron/host-protocol.js'
import { runNodeHost } from '../../../src/main/electron/node-host-runner.js'
import type { HostedNode, ParentPortLike } from '../../../src/main/electron/node-host-runner.js'
import { UsageError } from '../../../src/main/cli/args.js'

const TOKEN = 'K'.repeat(43)

/** The parent port as the host sees it; `deliver` plays the main process. */
function fakePort() {
  const posted: FromHost[] = []
  let listener: ((e: { data: unknown }) => void) | undefined
  const port: ParentPortLike = {
    postMessage: (m) => void posted.push(m),
    on: (_event, l) => (listener = l),
  }
  return { port, posted, deliver: (data: unknown) => listener?.({ data }) }
}

function hosted(stop: () => Promise<void> = async () => {}): HostedNode {
  return { port: 4000, token: TOKEN, peerId: '12D3KooWhost', dataDir: '/d', stop }
}

describe('node host', () => {
  it('starts on `start` and reports the API address and token', async () => {
    const { port, posted, deliver } = fakePort()
    const start = vi.fn(async () => hosted())
    const exit = vi.fn()
    runNodeHost({ port, start, exit, log: () => {} })
    deliver({ type: 'start', args: ['--data', '/d'] })
    await vi.waitFor(() => expect(posted).toHaveLength(1))
    expect(start).toHaveBeenCalledWith(['--data', '/d'])
    expect(posted[0]).toEqual({
      type: 'ready',
      port: 4000,
      token: TOKEN,
      peerId: '12D3KooWhost',
      dataDir: '/d',
    })
    deliver({ type: 'start', args: [] }) // a second start is ignored
    deliver({ type: 'exec', cmd: 'rm -rf /' }) // so is anything malformed
    deliver('stop')
    expect(start).toHaveBeenCalledTimes(1)
    deliver({ type: 'stop' })
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0))
  })

  it('reports a failed start, flags usage errors, and exits 1', async () => {
    for (const [err, usage] of [
      [new UsageError('config file /d/config.json is invalid'), true],
      [new Error('the data directory /d is in use by another Kaiwa node'), false],
    ] as const) {
      const { port, posted, deliver } = fakePort()
      const exit = vi.fn()
      runNodeHost({
        port,
        start: async () => {
          throw err
        },
        exit,
        log: () => {},
        failedExitDelayMs: 1,
      })
      deliver({ type: 'start', args: [] })
      await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1))
      expect(posted).toEqual([{ type: 'failed', message: err.message, usage }])
    }
  })

  it('finishes a start before honouring a stop, and never reports ready', async () => {
    const { port, posted, deliver } = fakePort()
    let release!: () => void
    const stop = vi.fn(async () => {})
    const exit = vi.fn()
    runNodeHost({
      port,
      start: () => new Promise((resolve) => (release = () => resolve(hosted(stop)))),
      exit,
      log: () => {},
    })
    deliver({ type: 'start', args: [] })
    deliver({ type: 'stop' })
    await Promise.resolve()
    expect(exit).not.toHaveBeenCalled()
    release()
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0))
    expect(stop).toHaveBeenCalledTimes(1)
    expect(posted).toEqual([])
  })

  it('exits 1 when stopping fails, and stops only once', async () => {
    const { port, posted, deliver } = fakePort()
    const stop = vi.fn(async () => {
      throw new Error('datastore close failed')
    })
    const exit = vi.fn()
    const host = runNodeHost({ port, start: async () => hosted(stop), exit, log: () => {} })
    deliver({ type: 'start', args: [] })
    await vi.waitFor(() => expect(posted).toHaveLength(1))
    await Promise.all([host.shutdown(), host.shutdown()])
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1))
    expect(stop).toHaveBeenCalledTimes(1)
    expect(exit).toHaveBeenCalledTimes(1)
  })

  it('exits at once when stopped before any start', async () => {
    const { port, deliver } = fakePort()
    const exit = vi.fn()
    runNodeHost({ port, start: async () => hosted(), exit, log: () => {} })
    deliver({ type: 'stop' })
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0))
  })
})
