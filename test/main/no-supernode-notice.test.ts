import { afterEach, describe, expect, it, vi } from 'vitest'
import { startNoSupernodeNotice } from '../../src/main/no-supernode-notice.js'
import type { Logger } from '../../src/shared/logger.js'

function recorder() {
  const lines: string[] = []
  const log = {
    warn: (m: string) => lines.push(`warn ${m}`),
    info: (m: string) => lines.push(`info ${m}`),
  } as unknown as Logger
  return { lines, log }
}

describe('startNoSupernodeNotice', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('warns a lone client after start-up and periodically, then says when it is attached', () => {
    vi.useFakeTimers()
    const { lines, log } = recorder()
    let supernodes: string[] = []
    const stop = startNoSupernodeNotice({
      role: () => 'client',
      supernodes: () => supernodes,
      log,
      firstAfterMs: 10,
      intervalMs: 100,
    })
    vi.advanceTimersByTime(10)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^warn .*no supernode.*--join LINK.*--supernode on/)
    vi.advanceTimersByTime(100)
    expect(lines).toHaveLength(2)
    supernodes = ['12D3Koo']
    vi.advanceTimersByTime(100)
    expect(lines[2]).toMatch(/^info connected to a supernode/)
    vi.advanceTimersByTime(300)
    expect(lines).toHaveLength(3)
    stop()
  })

  it('is silent on a supernode', () => {
    vi.useFakeTimers()
    const { lines, log } = recorder()
    const stop = startNoSupernodeNotice({
      role: () => 'supernode',
      supernodes: () => [],
      log,
      firstAfterMs: 10,
      intervalMs: 10,
    })
    vi.advanceTimersByTime(100)
    expect(lines).toEqual([])
    stop()
  })
})
