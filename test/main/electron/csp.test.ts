import { describe, expect, it } from 'vitest'
import { DESKTOP_CSP, uiResponseHeaders } from '../../../src/main/electron/csp.js'

function directives(csp: string): Map<string, string> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/)
      return [name!, values.join(' ')]
    }),
  )
}

describe('desktop CSP', () => {
  const d = directives(DESKTOP_CSP)

  it('denies by default and allows scripts only from the bundle', () => {
    expect(d.get('default-src')).toBe("'none'")
    expect(d.get('script-src')).toBe("'self'")
    expect(d.get('style-src')).toBe("'self'")
    expect(d.get('object-src')).toBe("'none'")
    expect(d.get('frame-src')).toBe("'none'")
    expect(d.get('frame-ancestors')).toBe("'none'")
    expect(d.get('base-uri')).toBe("'none'")
    expect(d.get('form-action')).toBe("'none'")
  })

  it('opens no network: no inline code, no eval, no http(s) or ws origins', () => {
    expect(DESKTOP_CSP).not.toMatch(/unsafe-inline|unsafe-eval|wasm-unsafe-eval|\*/)
    expect(DESKTOP_CSP).not.toMatch(/https?:|wss?:|127\.0\.0\.1|localhost/)
    expect(d.get('connect-src')).toBe("'self'")
  })

  it('goes out with every UI response, with nosniff', () => {
    const h = uiResponseHeaders()
    expect(h['content-security-policy']).toBe(DESKTOP_CSP)
    expect(h['x-content-type-options']).toBe('nosniff')
  })
})
