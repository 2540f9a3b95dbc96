import { describe, expect, it } from 'vitest'
import type { GuardedContents } from '../../../src/main/electron/web-contents-guard.js'
import { guardWebContents } from '../../../src/main/electron/web-contents-guard.js'
import { FakeContents, fakeEvent, quietLogger } from './fakes/electron-fakes.js'

function guarded() {
  const contents = new FakeContents()
  const opened: string[] = []
  guardWebContents(contents as unknown as GuardedContents, {
    openExternal: async (url) => void opened.push(url),
    log: quietLogger(),
  })
  return { contents, opened }
}

describe('web contents guard', () => {
  it('allows navigation inside the UI', () => {
    const { contents, opened } = guarded()
    const e = fakeEvent('app://kaiwa/index.html#/settings')
    contents.emit('will-navigate', e)
    expect(e.defaultPrevented).toBe(false)
    expect(opened).toEqual([])
  })

  it('sends https links to the browser and blocks everything else', () => {
    const { contents, opened } = guarded()
    const https = fakeEvent('https://example.org/a')
    contents.emit('will-navigate', https)
    const file = fakeEvent('file:///etc/passwd')
    contents.emit('will-navigate', file)
    expect(https.defaultPrevented).toBe(true)
    expect(file.defaultPrevented).toBe(true)
    expect(opened).toEqual(['https://example.org/a'])
  })

  it('never follows a redirect out of the app', () => {
    const { contents, opened } = guarded()
    const e = fakeEvent('https://example.org/')
    contents.emit('will-redirect', e)
    expect(e.defaultPrevented).toBe(true)
    expect(opened).toEqual([])
  })

  it('denies every new window and every webview', () => {
    const { contents, opened } = guarded()
    expect(contents.openHandler?.({ url: 'https://example.org/' })).toEqual({ action: 'deny' })
    expect(contents.openHandler?.({ url: 'app://kaiwa/index.html' })).toEqual({ action: 'deny' })
    expect(contents.openHandler?.({ url: 'smb://host/x' })).toEqual({ action: 'deny' })
    expect(opened).toEqual(['https://example.org/'])
    const e = fakeEvent()
    contents.emit('will-attach-webview', e)
    expect(e.defaultPrevented).toBe(true)
  })
})
