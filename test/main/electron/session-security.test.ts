import { EventEmitter } from 'node:events'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DESKTOP_CSP } from '../../../src/main/electron/csp.js'
import { secureSession, serveUi } from '../../../src/main/electron/session-security.js'
import type { SessionLike } from '../../../src/main/electron/session-security.js'
import { tempDir } from '../../helpers/nodes.js'
import { fakeEvent, quietLogger } from './fakes/electron-fakes.js'

let root: string
beforeAll(async () => {
  root = await tempDir('kaiwa-ui-')
  await mkdir(join(root, 'assets'))
  await writeFile(join(root, 'index.html'), '<!doctype html><title>Kaiwa</title>')
  await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)')
})
afterAll(() => rm(root, { recursive: true, force: true }))

/** A session that records the handlers secureSession installs. */
function fakeSession() {
  const s = new EventEmitter() as EventEmitter & Record<string, unknown>
  const h: Record<string, (...args: never[]) => unknown> = {}
  Object.assign(s, {
    protocol: { handle: (scheme: string, fn: never) => (h[`protocol:${scheme}`] = fn) },
    webRequest: { onBeforeRequest: (fn: never) => (h.beforeRequest = fn) },
    setPermissionRequestHandler: (fn: never) => (h.request = fn),
    setPermissionCheckHandler: (fn: never) => (h.check = fn),
    setDevicePermissionHandler: (fn: never) => (h.device = fn),
    setDisplayMediaRequestHandler: (fn: never) => (h.display = fn),
  })
  return { session: s as unknown as SessionLike, emitter: s, h }
}

function install(callActive: boolean, media: { camera?: boolean; screen?: string } = {}) {
  const f = fakeSession()
  const ours = { id: 1 }
  const ourFrame = { parent: null }
  let screen = media.screen
  secureSession({
    session: f.session,
    uiRoot: root,
    isOurContents: (c) => c === (ours as unknown),
    isOurFrame: (frame) => frame === (ourFrame as unknown),
    callActive: () => callActive,
    cameraActive: () => media.camera === true,
    screenArmed: () => screen != null,
    takeScreen: () => {
      const s = screen
      screen = undefined
      return s
    },
    log: quietLogger(),
  })
  return { ...f, ours, ourFrame }
}

describe('UI protocol', () => {
  it('serves the bundle with the CSP and a real content type', async () => {
    const res = await serveUi('app://kaiwa/index.html', root)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toBe(DESKTOP_CSP)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await res.text()).toContain('<title>Kaiwa</title>')
    const js = await serveUi('app://kaiwa/assets/app.js', root)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(js.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('answers 404 for missing files, escapes and foreign hosts', async () => {
    for (const url of [
      'app://kaiwa/nope.js',
      'app://kaiwa/..%2f..%2fetc%2fpasswd',
      'app://other/index.html',
    ]) {
      const res = await serveUi(url, root)
      expect(res.status, url).toBe(404)
      expect(res.headers.get('content-security-policy')).toBe(DESKTOP_CSP)
    }
  })

  it('is registered for app:', async () => {
    const { h } = install(false)
    const handler = h['protocol:app'] as unknown as (r: { url: string }) => Promise<Response>
    expect((await handler({ url: 'app://kaiwa/' })).status).toBe(200)
  })
})

describe('session permissions', () => {
  type RequestHandler = (
    contents: unknown,
    permission: string,
    cb: (granted: boolean) => void,
    details: object,
  ) => void
  type CheckHandler = (
    contents: unknown,
    permission: string,
    origin: string,
    details: object,
  ) => boolean

  const ask = (
    h: Record<string, unknown>,
    contents: unknown,
    permission: string,
    details: object,
  ) => {
    let granted: boolean | undefined
    ;(h.request as RequestHandler)(contents, permission, (g) => (granted = g), details)
    return granted
  }
  const mic = { requestingUrl: 'app://kaiwa/index.html', isMainFrame: true, mediaTypes: ['audio'] }

  it('grants the microphone to our window only during a call', () => {
    const during = install(true)
    expect(ask(during.h, during.ours, 'media', mic)).toBe(true)
    expect(ask(during.h, { id: 2 }, 'media', mic)).toBe(false)
    expect(ask(during.h, during.ours, 'media', { ...mic, mediaTypes: ['audio', 'video'] })).toBe(
      false,
    )
    expect(ask(during.h, during.ours, 'notifications', mic)).toBe(false)
    const check = during.h.check as CheckHandler
    expect(
      check(during.ours, 'media', 'app://kaiwa', { mediaType: 'audio', isMainFrame: true }),
    ).toBe(true)
    expect(check(null, 'media', 'app://kaiwa', { mediaType: 'audio', isMainFrame: true })).toBe(
      false,
    )

    const idle = install(false)
    expect(ask(idle.h, idle.ours, 'media', mic)).toBe(false)
    expect(
      (idle.h.check as CheckHandler)(idle.ours, 'media', 'app://kaiwa', { mediaType: 'audio' }),
    ).toBe(false)
  })

  it('grants the camera only with the camera gate open', () => {
    const cam = { ...mic, mediaTypes: ['audio', 'video'] }
    const off = install(true)
    expect(ask(off.h, off.ours, 'media', cam)).toBe(false)
    const on = install(true, { camera: true })
    expect(ask(on.h, on.ours, 'media', cam)).toBe(true)
    expect(
      (on.h.check as CheckHandler)(on.ours, 'media', 'app://kaiwa', { mediaType: 'video' }),
    ).toBe(true)
    expect(ask(install(false, { camera: true }).h, on.ours, 'media', cam)).toBe(false)
  })

  type DisplayHandler = (
    request: object,
    callback: (streams: { video?: { id: string } } | null) => void,
  ) => void
  const display = (h: Record<string, unknown>, request: object) => {
    let out: { video?: { id: string } } | null | undefined
    ;(h.display as DisplayHandler)(request, (s) => (out = s))
    return out
  }

  it('gives getDisplayMedia() the picked screen once, on a gesture, in a call', () => {
    const { h, ourFrame } = install(true, { screen: 'window:7:0' })
    const request = {
      frame: ourFrame,
      securityOrigin: 'app://kaiwa',
      userGesture: true,
      videoRequested: true,
      audioRequested: false,
    }
    expect(display(h, { ...request, userGesture: false })).toBeNull()
    expect(display(h, { ...request, frame: { parent: null } })).toBeNull() // another window
    expect(display(h, { ...request, securityOrigin: 'https://evil.example' })).toBeNull()
    expect(display(h, request)).toMatchObject({ video: { id: 'window:7:0' } })
    expect(display(h, request)).toBeNull() // used up
    const idle = install(false, { screen: 'screen:1:0' })
    expect(display(idle.h, { ...request, frame: idle.ourFrame })).toBeNull()
  })

  it('refuses devices, foreign requests and downloads', () => {
    const { h, emitter } = install(true)
    expect((h.device as () => boolean)()).toBe(false)
    const cancel = (url: string): boolean | undefined => {
      let out: boolean | undefined
      ;(h.beforeRequest as (d: { url: string }, cb: (r: { cancel: boolean }) => void) => void)(
        { url },
        (r) => (out = r.cancel),
      )
      return out
    }
    expect(cancel('app://kaiwa/assets/app.js')).toBe(false)
    expect(cancel('https://tracker.example/pixel.gif')).toBe(true)
    expect(cancel('http://127.0.0.1:4000/api/v1/status')).toBe(true)
    const download = fakeEvent()
    emitter.emit('will-download', download)
    expect(download.defaultPrevented).toBe(true)
  })
})
