import { describe, expect, it } from 'vitest'
import { RestartPolicy } from '../../../src/main/electron/restart-policy.js'

describe('RestartPolicy', () => {
  it('backs off, then gives up', () => {
    let now = 0
    const p = new RestartPolicy({ delaysMs: [1, 5, 30], windowMs: 100, now: () => now })
    expect(p.next()).toBe(1)
    expect(p.next()).toBe(5)
    expect(p.next()).toBe(30)
    expect(p.next()).toBeUndefined()
    now = 50
    expect(p.next()).toBeUndefined()
  })

  it('forgets failures older than the window', () => {
    let now = 0
    const p = new RestartPolicy({ delaysMs: [1, 5], windowMs: 100, now: () => now })
    expect(p.next()).toBe(1)
    expect(p.next()).toBe(5)
    now = 150
    expect(p.next()).toBe(1)
    p.reset()
    expect(p.next()).toBe(1)
  })
})
