import { describe, expect, it } from 'vitest'
import { describeSender, isTrustedSender } from '../../../src/main/electron/sender-policy.js'

const top = { url: 'app://kaiwa/index.html', parent: null }

describe('IPC sender policy', () => {
  it('trusts the top frame of our window on our origin', () => {
    const s = describeSender({ sender: { id: 7 }, senderFrame: top })
    expect(s).toEqual({ contentsId: 7, frameUrl: 'app://kaiwa/index.html', isMainFrame: true })
    expect(isTrustedSender(s, 7)).toBe(true)
  })

  it('refuses other windows, subframes, foreign origins and gone frames', () => {
    const ok = { contentsId: 7, frameUrl: 'app://kaiwa/index.html', isMainFrame: true }
    expect(isTrustedSender(ok, 8)).toBe(false)
    expect(isTrustedSender(ok, undefined)).toBe(false)
    expect(isTrustedSender({ ...ok, isMainFrame: false }, 7)).toBe(false)
    expect(isTrustedSender({ ...ok, frameUrl: 'https://evil.example/' }, 7)).toBe(false)
    expect(isTrustedSender({ ...ok, frameUrl: 'file:///index.html' }, 7)).toBe(false)
    expect(isTrustedSender({ ...ok, frameUrl: undefined }, 7)).toBe(false)

    const sub = describeSender({ sender: { id: 7 }, senderFrame: { url: top.url, parent: top } })
    expect(isTrustedSender(sub, 7)).toBe(false)
    const gone = describeSender({ sender: { id: 7 }, senderFrame: null })
    expect(isTrustedSender(gone, 7)).toBe(false)
  })

  it('treats a frame getter that throws as no frame', () => {
    const event = {
      sender: { id: 7 },
      get senderFrame(): never {
        throw new Error('Render frame was disposed')
      },
    }
    expect(describeSender(event)).toEqual({
      contentsId: 7,
      frameUrl: undefined,
      isMainFrame: false,
    })
  })
})
