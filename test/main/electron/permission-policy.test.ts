import { describe, expect, it } from 'vitest'
import {
  allowPermissionCheck,
  allowPermissionRequest,
} from '../../../src/main/electron/permission-policy.js'
import type {
  PermissionCheckInfo,
  PermissionRequestInfo,
} from '../../../src/main/electron/permission-policy.js'

const mic: PermissionRequestInfo = {
  permission: 'media',
  requestingUrl: 'app://kaiwa/index.html',
  isMainFrame: true,
  mediaTypes: ['audio'],
  fromOurWindow: true,
  callActive: true,
}

const check: PermissionCheckInfo = {
  permission: 'media',
  origin: 'app://kaiwa',
  mediaType: 'audio',
  fromOurWindow: true,
  callActive: true,
}

describe('permission policy', () => {
  it('grants the microphone to our UI during a call', () => {
    expect(allowPermissionRequest(mic)).toBe(true)
    expect(allowPermissionCheck(check)).toBe(true)
  })

  it('denies it outside a call, to other frames, windows and origins', () => {
    expect(allowPermissionRequest({ ...mic, callActive: false })).toBe(false)
    expect(allowPermissionRequest({ ...mic, fromOurWindow: false })).toBe(false)
    expect(allowPermissionRequest({ ...mic, isMainFrame: false })).toBe(false)
    expect(allowPermissionRequest({ ...mic, requestingUrl: 'https://evil.example/' })).toBe(false)
    expect(allowPermissionRequest({ ...mic, requestingUrl: undefined })).toBe(false)
    expect(allowPermissionCheck({ ...check, callActive: false })).toBe(false)
    expect(allowPermissionCheck({ ...check, fromOurWindow: false })).toBe(false)
    expect(allowPermissionCheck({ ...check, origin: 'file://' })).toBe(false)
  })

  it('grants the camera only while the camera gate is open, in a call, from our UI', () => {
    expect(allowPermissionRequest({ ...mic, mediaTypes: ['video'] })).toBe(false)
    expect(allowPermissionRequest({ ...mic, mediaTypes: ['audio', 'video'] })).toBe(false)
    expect(allowPermissionCheck({ ...check, mediaType: 'video' })).toBe(false)
    const cam = { ...mic, cameraActive: true }
    expect(allowPermissionRequest({ ...cam, mediaTypes: ['video'] })).toBe(true)
    expect(allowPermissionRequest({ ...cam, mediaTypes: ['audio', 'video'] })).toBe(true)
    expect(allowPermissionCheck({ ...check, mediaType: 'video', cameraActive: true })).toBe(true)
    // The gate alone is not enough: a call, our window, our top frame, our origin.
    expect(allowPermissionRequest({ ...cam, mediaTypes: ['video'], callActive: false })).toBe(false)
    expect(allowPermissionRequest({ ...cam, mediaTypes: ['video'], isMainFrame: false })).toBe(
      false,
    )
    expect(
      allowPermissionRequest({
        ...cam,
        mediaTypes: ['video'],
        requestingUrl: 'https://x.example/',
      }),
    ).toBe(false)
    expect(
      allowPermissionCheck({ ...check, mediaType: 'video', cameraActive: true, callActive: false }),
    ).toBe(false)
  })

  it('refuses empty, unknown or missing media types', () => {
    const cam = { ...mic, cameraActive: true }
    expect(allowPermissionRequest({ ...cam, mediaTypes: [] })).toBe(false)
    expect(allowPermissionRequest({ ...cam, mediaTypes: undefined })).toBe(false)
    expect(allowPermissionRequest({ ...cam, mediaTypes: ['audio', 'screen'] })).toBe(false)
    expect(allowPermissionCheck({ ...check, mediaType: 'unknown', cameraActive: true })).toBe(false)
    expect(allowPermissionCheck({ ...check, mediaType: undefined })).toBe(false)
  })

  it('grants display capture only when a picked source is armed, in a call, from our UI', () => {
    const screen = { ...mic, permission: 'display-capture', mediaTypes: undefined }
    expect(allowPermissionRequest(screen)).toBe(false)
    expect(allowPermissionRequest({ ...screen, screenArmed: true })).toBe(true)
    expect(allowPermissionRequest({ ...screen, screenArmed: true, callActive: false })).toBe(false)
    expect(allowPermissionRequest({ ...screen, screenArmed: true, fromOurWindow: false })).toBe(
      false,
    )
    expect(allowPermissionCheck({ ...check, permission: 'display-capture' })).toBe(false)
  })

  it('lets our UI show the far end full screen during a call only', () => {
    const full = { ...mic, permission: 'fullscreen', mediaTypes: undefined }
    expect(allowPermissionRequest(full)).toBe(true)
    expect(allowPermissionRequest({ ...full, callActive: false })).toBe(false)
    expect(allowPermissionRequest({ ...full, isMainFrame: false })).toBe(false)
  })

  it('denies every other permission, even in a call', () => {
    for (const permission of [
      'notifications',
      'geolocation',
      'clipboard-read',
      'openExternal',
      'midi',
      'hid',
      'serial',
      'usb',
      'pointerLock',
      'speaker-selection',
    ]) {
      expect(allowPermissionRequest({ ...mic, permission }), permission).toBe(false)
      expect(allowPermissionCheck({ ...check, permission }), permission).toBe(false)
    }
  })
})
