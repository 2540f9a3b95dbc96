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

  it('never grants the camera, or audio bundled with video', () => {
    expect(allowPermissionRequest({ ...mic, mediaTypes: ['video'] })).toBe(false)
    expect(allowPermissionRequest({ ...mic, mediaTypes: ['audio', 'video'] })).toBe(false)
    expect(allowPermissionRequest({ ...mic, mediaTypes: [] })).toBe(false)
    expect(allowPermissionRequest({ ...mic, mediaTypes: undefined })).toBe(false)
    expect(allowPermissionCheck({ ...check, mediaType: 'video' })).toBe(false)
    expect(allowPermissionCheck({ ...check, mediaType: 'unknown' })).toBe(false)
  })

  it('denies every other permission, even in a call', () => {
    for (const permission of [
      'notifications',
      'geolocation',
      'clipboard-read',
      'display-capture',
      'openExternal',
      'midi',
      'hid',
      'serial',
      'usb',
      'fullscreen',
      'pointerLock',
      'speaker-selection',
    ]) {
      expect(allowPermissionRequest({ ...mic, permission }), permission).toBe(false)
      expect(allowPermissionCheck({ ...check, permission }), permission).toBe(false)
    }
  })
})
