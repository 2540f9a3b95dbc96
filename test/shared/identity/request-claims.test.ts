/**
 * The pieces under the token: SIP Date handling, SDP fingerprint extraction
 * and the Identity field syntax.
 */
import { describe, expect, it } from 'vitest'
import {
  IdentityHeaderSyntaxError,
  formatIdentityField,
  parseIdentityField,
} from '../../../src/shared/identity/identity-header.js'
import {
  IdentityRequestError,
  formatSipDate,
  parseSipDate,
  readRequestClaims,
  sdpMediaKeys,
} from '../../../src/shared/identity/request-claims.js'
import { FP_A, FP_B, NOW, NOW_DATE, request, sdp } from './fixtures.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const KID = 'eh7d-dx5b-ksrg-cytl'

describe('SIP Date', () => {
  it('formats RFC 1123 dates and parses them back', () => {
    expect(formatSipDate(NOW)).toBe(NOW_DATE)
    expect(parseSipDate(NOW_DATE)).toBe(NOW)
    expect(parseSipDate('Sat, 01 Jan 2000 00:00:00 GMT')).toBe(Date.UTC(2000, 0, 1))
  })

  it('refuses dates that are not RFC 1123 GMT or not real days', () => {
    for (const bad of [
      'Tue, 14 Nov 2023 22:13:20 UTC',
      'Tue, 14 Nov 2023 22:13:20 +0000',
      '2023-11-14T22:13:20Z',
      'Tue, 31 Feb 2023 22:13:20 GMT',
      'Tue, 14 Nov 2023 24:00:00 GMT',
      'Tue, 4 Nov 2023 22:13:20 GMT',
      '',
    ]) {
      expect(parseSipDate(bad)).toBeUndefined()
    }
  })
})

describe('sdpMediaKeys', () => {
  it('collects every fingerprint, de-duplicated and sorted', () => {
    const keys = sdpMediaKeys(enc(sdp([FP_B, FP_A, FP_A])))
    expect(keys.map((k) => `${k.alg} ${k.dig}`)).toEqual([FP_A, FP_B])
    expect(sdpMediaKeys(enc(sdp([])))).toEqual([])
  })

  it('finds fingerprints in any case, with LF line ends, or after a bare CR', () => {
    const odd = `v=0\nA=Fingerprint:sha-1 AA:BB\rx a=fingerprint:sha-256 CC\n`
    expect(sdpMediaKeys(enc(odd))).toEqual([
      { alg: 'sha-1', dig: 'AA:BB' },
      { alg: 'sha-256', dig: 'CC' },
    ])
  })

  it('keeps distinct byte strings distinct (no UTF-8 replacement merging)', () => {
    const a = sdpMediaKeys(new Uint8Array([...enc('a=fingerprint:sha-256 '), 0xff, 0x41]))
    const b = sdpMediaKeys(new Uint8Array([...enc('a=fingerprint:sha-256 '), 0xfe, 0x41]))
    expect(a).not.toEqual(b)
  })
})

describe('readRequestClaims', () => {
  it('reads AORs without parameters, with the host lower-cased', () => {
    const rc = readRequestClaims(
      request({ from: '<sip:alice@KAIWA:5060;transport=tcp>;tag=x', to: 'sip:bob@Kaiwa;tag=y' }),
    )
    expect(rc.orig).toBe('sip:alice@kaiwa')
    expect(rc.dest).toBe('sip:bob@kaiwa')
  })

  it('names the missing or malformed field', () => {
    expect(() => readRequestClaims(request({ date: null }))).toThrow(/Date/)
    expect(() => readRequestClaims(request({ from: '<sip:Alice@kaiwa>' }))).toThrow(/user ID/)
    expect(() => readRequestClaims(request({ cseq: 'x INVITE' }))).toThrow(IdentityRequestError)
    expect(() => readRequestClaims(request({ callId: '' }))).toThrow(IdentityRequestError)
    const twoDates = request()
    twoDates.headers.add('Date', NOW_DATE)
    expect(() => readRequestClaims(twoDates)).toThrow(/exactly one Date/)
  })
})

describe('Identity field syntax', () => {
  it('formats and parses, tolerating whitespace, parameter case and order, and extensions', () => {
    const v = formatIdentityField('aaa.bbb.ccc', KID)
    expect(v).toBe(`aaa.bbb.ccc;info=<kaiwa:key:${KID}>;alg=EdDSA;ppt=kaiwa`)
    expect(parseIdentityField(v)).toEqual({ token: 'aaa.bbb.ccc', kid: KID })
    const loose = `aaa.bbb.ccc ; PPT = kaiwa ;x-ext="q;v" ;ALG=EdDSA; info=<kaiwa:key:${KID}>`
    expect(parseIdentityField(loose)).toEqual({ token: 'aaa.bbb.ccc', kid: KID })
  })

  it('refuses what is not Kaiwa profile', () => {
    for (const bad of [
      `aaa;info=<kaiwa:key:${KID}>;alg=EdDSA`,
      `aaa;info=<kaiwa:key:${KID}>;alg=ES256;ppt=kaiwa`,
      `aaa;info=<kaiwa:key:${KID}>;alg=EdDSA;ppt=shaken`,
      `aaa;info=<https://cert.example/x>;alg=EdDSA;ppt=kaiwa`,
      `aaa;info=kaiwa:key:${KID};alg=EdDSA;ppt=kaiwa`,
      `aaa;info=<kaiwa:key:${KID}>;alg=EdDSA;ppt=kaiwa;ppt=kaiwa`,
      `aaa;info=<kaiwa:key:${KID}>;alg=EdDSA;ppt=kaiwa;`,
      `;info=<kaiwa:key:${KID}>;alg=EdDSA;ppt=kaiwa`,
      `aaa bbb;info=<kaiwa:key:${KID}>;alg=EdDSA;ppt=kaiwa`,
    ]) {
      expect(() => parseIdentityField(bad), bad).toThrow(IdentityHeaderSyntaxError)
    }
  })
})
