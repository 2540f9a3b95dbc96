import { describe, expect, it } from 'vitest'
import {
  APP_ENTRY_URL,
  isAllowedRequest,
  isAppUrl,
  navigationDecision,
  windowOpenDecision,
} from '../../../src/main/electron/app-origin.js'

describe('app origin', () => {
  it('recognises only app://kaiwa', () => {
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true)
    expect(isAppUrl('app://kaiwa')).toBe(true)
    expect(isAppUrl('app://kaiwa/')).toBe(true)
    expect(isAppUrl('app://kaiwa/assets/index.js?x=1#y')).toBe(true)
    for (const url of [
      'app://evil/index.html',
      'app://kaiwa.evil/index.html',
      'app://user@kaiwa/index.html',
      'app://kaiwa:1/index.html',
      'http://kaiwa/index.html',
      'file:///index.html',
      'https://example.org',
      'null',
      '',
      'not a url',
      undefined,
      null,
      42,
    ]) {
      expect(isAppUrl(url), String(url)).toBe(false)
    }
  })

  it('keeps navigation in the app and sends only https out', () => {
    expect(navigationDecision('app://kaiwa/index.html#/chat')).toBe('allow')
    expect(navigationDecision('https://example.org/page')).toBe('open-external')
    for (const url of [
      'http://example.org',
      'file:///etc/passwd',
      'smb://host/share',
      'javascript:alert(1)',
      'data:text/html,<script>1</script>',
      'ms-msdt:/id',
      'kaiwa:alice',
      'https://user@example.org/',
      `https://example.org/${'a'.repeat(3000)}`,
    ]) {
      expect(navigationDecision(url), url).toBe('deny')
    }
  })

  it('never opens windows, at most the browser', () => {
    expect(windowOpenDecision('https://example.org')).toBe('open-external')
    expect(windowOpenDecision('app://kaiwa/index.html')).toBe('deny')
    expect(windowOpenDecision('file:///tmp/x')).toBe('deny')
  })

  it('lets the session load only the UI, data:, blob: and DevTools', () => {
    expect(isAllowedRequest('app://kaiwa/assets/a.js')).toBe(true)
    expect(isAllowedRequest('data:image/png;base64,AAAA')).toBe(true)
    expect(isAllowedRequest('blob:app://kaiwa/1234')).toBe(true)
    expect(isAllowedRequest('devtools://devtools/bundled/inspector.html')).toBe(true)
    expect(isAllowedRequest('app://other/a.js')).toBe(false)
    expect(isAllowedRequest('http://127.0.0.1:8080/api')).toBe(false)
    expect(isAllowedRequest('https://cdn.example.org/x.js')).toBe(false)
    expect(isAllowedRequest('ws://127.0.0.1:1/api/v1/ws')).toBe(false)
    expect(isAllowedRequest('file:///etc/passwd')).toBe(false)
    expect(isAllowedRequest('garbage')).toBe(false)
  })
})
