import { describe, expect, it } from 'vitest'
import {
  findKaiwaLink,
  isHiddenLaunch,
  parseKaiwaLink,
} from '../../../src/main/electron/deep-link.js'

const FP = 'abcd-efgh-ijkl-mn23'

describe('kaiwa: links', () => {
  it('reads a user ID and an optional fingerprint', () => {
    expect(parseKaiwaLink('kaiwa:alice')).toEqual({ name: 'alice' })
    expect(parseKaiwaLink(`kaiwa:alice#${FP}`)).toEqual({ name: 'alice', fingerprint: FP })
  })

  it('accepts the forms launchers produce', () => {
    expect(parseKaiwaLink(`kaiwa://alice#${FP}`)).toEqual({ name: 'alice', fingerprint: FP })
    expect(parseKaiwaLink('kaiwa://alice/')).toEqual({ name: 'alice' })
    expect(parseKaiwaLink(`KAIWA:Alice%23${FP.toUpperCase()}`)).toEqual({
      name: 'alice',
      fingerprint: FP,
    })
    expect(parseKaiwaLink('kaiwa:alice?via=qr')).toEqual({ name: 'alice' })
    expect(parseKaiwaLink(`kaiwa:alice#${FP.replace(/-/g, '')}`)).toEqual({
      name: 'alice',
      fingerprint: FP,
    })
    expect(parseKaiwaLink('  kaiwa:bob.smith_2 ')).toEqual({ name: 'bob.smith_2' })
  })

  it('refuses anything else', () => {
    for (const text of [
      'kaiwa:',
      'kaiwa:a',
      'kaiwa:-alice',
      'kaiwa:al ice',
      'kaiwa:alice/bob',
      'kaiwa:alice%ZZ',
      'kaiwa:alice#',
      'kaiwa:alice#not-a-fingerprint',
      'kaiwa:alice#abcd-efgh-ijkl-mn01', // 0 and 1 are not base32
      'sip:alice@kaiwa',
      'https://kaiwa/alice',
      `kaiwa:${'a'.repeat(300)}`,
      42,
      undefined,
    ]) {
      expect(parseKaiwaLink(text), String(text)).toBeUndefined()
    }
  })

  it('carries an invite link whole, for the renderer to offer joining with it', () => {
    const link = `kaiwa:alice?invite=${'A'.repeat(600)}#abcd-efgh-ijkl-mnop`
    expect(parseKaiwaLink(link)).toEqual({
      name: 'alice',
      fingerprint: 'abcd-efgh-ijkl-mnop',
      invite: link,
    })
    expect(parseKaiwaLink(`kaiwa:alice?invite=${'A'.repeat(5000)}`)).toBeUndefined()
  })

  it('finds the link among command-line arguments', () => {
    const argv = ['/opt/Kaiwa/kaiwa', '--no-sandbox', 'kaiwa:bad name', 'kaiwa:carol']
    expect(findKaiwaLink(argv)).toEqual({ name: 'carol' })
    expect(findKaiwaLink(['/opt/Kaiwa/kaiwa', '--hidden'])).toBeUndefined()
  })

  it('knows a hidden (autostart) launch', () => {
    expect(isHiddenLaunch(['kaiwa', '--hidden'])).toBe(true)
    expect(isHiddenLaunch(['kaiwa'])).toBe(false)
  })
})
