/** SIP URI comparison (RFC 3261 §19.1.4), as the local registrar matches Contacts. */
import { describe, expect, it } from 'vitest'
import { sameSipUri } from '../../../src/shared/sip/uri-equal.js'

describe('sameSipUri', () => {
  it("takes sip.js's INVITE Contact (with ;ob) for the Contact it registered", () => {
    expect(
      sameSipUri(
        'sip:poet2p23@qpep45mcmltk.invalid;transport=tcp',
        'sip:poet2p23@qpep45mcmltk.invalid;transport=tcp;ob',
      ),
    ).toBe(true)
  })

  it.each([
    // §19.1.4's own examples of equal URIs.
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
    [
      'sip:biloxi.com;transport=tcp;method=REGISTER',
      'sip:biloxi.com;method=REGISTER;transport=tcp',
    ],
  ])('%s equals %s', (a, b) => {
    expect(sameSipUri(a, b)).toBe(true)
    expect(sameSipUri(b, a)).toBe(true)
  })

  it.each([
    // §19.1.4's examples of URIs that differ.
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'],
    ['sip:alice@atlanta.com', 'sips:alice@atlanta.com'],
    ['sip:alice@atlanta.com;maddr=239.255.255.1', 'sip:alice@atlanta.com'],
  ])('%s differs from %s', (a, b) => {
    expect(sameSipUri(a, b)).toBe(false)
    expect(sameSipUri(b, a)).toBe(false)
  })

  it('falls back to exact text for what is not a SIP URI', () => {
    expect(sameSipUri('tel:+1234', 'TEL:+1234')).toBe(true)
    expect(sameSipUri('not a uri', 'sip:a@b')).toBe(false)
  })
})
