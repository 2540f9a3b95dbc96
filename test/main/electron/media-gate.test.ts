/** The camera and screen gates of the desktop app, and which source getDisplayMedia() gets. */
import { describe, expect, it } from 'vitest'
import { decideDisplayMedia } from '../../../src/main/electron/display-media-policy.js'
import type { DisplayMediaRequestInfo } from '../../../src/main/electron/display-media-policy.js'
import { MediaGate } from '../../../src/main/electron/media-gate.js'

function gate(active = true) {
  const state = { active }
  return { state, gate: new MediaGate(() => state.active, 10_000) }
}

describe('MediaGate', () => {
  it('opens the camera only in a call, until Camera goes off or the call ends', () => {
    const { state, gate: g } = gate(false)
    expect(g.startCamera()).toBe(false)
    expect(g.camera).toBe(false)
    state.active = true
    expect(g.startCamera()).toBe(true)
    expect(g.camera).toBe(true)
    g.stopCamera()
    expect(g.camera).toBe(false)
    g.startCamera()
    state.active = false
    expect(g.camera).toBe(false) // the call gate closed: the camera with it
  })

  it('hands a listed, picked source to one getDisplayMedia(), within the time limit', () => {
    const { gate: g } = gate()
    g.listed(['screen:0:0', 'window:42:0'])
    expect(g.choose('window:99:0', 0)).toBe(false) // never listed
    expect(g.screenArmed(0)).toBe(false)
    expect(g.choose('window:42:0', 1000)).toBe(true)
    expect(g.screenArmed(5000)).toBe(true)
    expect(g.take(5000)).toBe('window:42:0')
    expect(g.take(5001)).toBeUndefined() // used up
    g.choose('screen:0:0', 20_000)
    expect(g.screenArmed(40_000)).toBe(false)
    expect(g.take(40_000)).toBeUndefined() // stale
  })

  it('forgets everything outside a call and on reset', () => {
    const { state, gate: g } = gate()
    g.listed(['screen:0:0'])
    g.choose('screen:0:0', 0)
    state.active = false
    expect(g.screenArmed(0)).toBe(false)
    expect(g.choose('screen:0:0', 0)).toBe(false)
    state.active = true
    g.startCamera()
    g.reset()
    expect(g.camera).toBe(false)
    expect(g.choose('screen:0:0', 0)).toBe(false) // the list went too
  })
})

describe('display media policy', () => {
  const ok: DisplayMediaRequestInfo = {
    fromOurWindow: true,
    isMainFrame: true,
    origin: 'app://kaiwa',
    userGesture: true,
    videoRequested: true,
    callActive: true,
  }
  const picked = () => 'screen:1:0'

  it('gives our page in a call, on a gesture, the picked source', () => {
    expect(decideDisplayMedia(ok, picked)).toEqual({ allow: true, sourceId: 'screen:1:0' })
  })

  it.each([
    [{ fromOurWindow: false }, 'not our page'],
    [{ isMainFrame: false }, 'not our page'],
    [{ origin: 'https://evil.example' }, 'not our page'],
    [{ callActive: false }, 'no call under way'],
    [{ userGesture: false }, 'no user gesture'],
    [{ videoRequested: false }, 'no video asked for'],
  ] as const)('refuses %o', (change, why) => {
    expect(decideDisplayMedia({ ...ok, ...change }, picked)).toEqual({ allow: false, why })
  })

  it('refuses when nothing was picked', () => {
    expect(decideDisplayMedia(ok, () => undefined)).toEqual({
      allow: false,
      why: 'no source picked in the picker',
    })
  })
})
