import { describe, expect, it } from 'vitest'
import { KaiwaError } from '../../../src/shared/errors.js'
import { SipUriError, unquote } from '../../../src/shared/sip/sip-lexer.js'
import {
  parseHeaderParams,
  parseNameAddr,
  parseSipUri,
  parseVia,
} from '../../../src/shared/sip/sip-uri.js'
import type { SipUri } from '../../../src/shared/sip/sip-uri.js'

const sip = (s: string): SipUri => {
  const u = parseSipUri(s)
  if (u.kind !== 'sip') throw new Error(`not a SIP URI: ${s}`)
  return u
}

describe('parseSipUri', () => {
  it('parses every part of a sip: URI', () => {
    const u = sip(
      'sip:alice:secret@Atlanta.example.com:5061;transport=tcp;lr?subject=x&priority=urgent',
    )
    expect(u).toMatchObject({
      kind: 'sip',
      scheme: 'sip',
      user: 'alice',
      password: 'secret',
      host: 'Atlanta.example.com',
      port: 5061,
      headers: [
        { name: 'subject', value: 'x' },
        { name: 'priority', value: 'urgent' },
      ],
    })
    expect([...u.params]).toEqual([
      ['transport', 'tcp'],
      ['lr', null],
    ])
  })

  it('handles sips:, host-only, IPv4 and IPv6 references', () => {
    expect(sip('SIPS:example.com')).toMatchObject({ scheme: 'sips', host: 'example.com' })
    expect(sip('sip:192.0.2.1:5060')).toMatchObject({ host: '192.0.2.1', port: 5060 })
    const v6 = sip('sip:bob@[2001:db8::10]:5070;maddr=[2001:db8::1]')
    expect(v6).toMatchObject({ host: '[2001:db8::10]', port: 5070, user: 'bob' })
    expect(v6.params.get('maddr')).toBe('[2001:db8::1]')
  })

  it('keeps %-escapes raw (RFC 4475 §3.1.1.3/§3.1.1.4)', () => {
    expect(sip('sip:%75se%72@example.com').user).toBe('%75se%72')
    expect(sip('sip:null-%00-null@example.com').user).toBe('null-%00-null')
    const c = sip('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31')
    expect([...c.params]).toEqual([
      ['%6c%72', null],
      ['n%61me', 'v%61lue%25%34%31'],
    ])
  })

  it('accepts the unusual user parts of intmeth and semiuri', () => {
    const u = sip(
      "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
    )
    expect(u.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    expect(u.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    expect(u.host).toBe('example.com')
    expect(sip('sip:user;par=u%40example.net@example.com').user).toBe('user;par=u%40example.net')
  })

  it('returns other schemes opaque, with the scheme, for a 416', () => {
    expect(parseSipUri('nobodyKnowsThisScheme:totallyopaquecontent')).toEqual({
      kind: 'other',
      scheme: 'nobodyknowsthisscheme',
      opaque: 'totallyopaquecontent',
      raw: 'nobodyKnowsThisScheme:totallyopaquecontent',
    })
    expect(parseSipUri('soap.beep://192.0.2.103:3002')).toMatchObject({ scheme: 'soap.beep' })
    expect(parseSipUri('tel:+1-201-555-0123')).toMatchObject({ kind: 'other', scheme: 'tel' })
  })

  it.each([
    ['sip:user@example.com; lr', /whitespace/],
    ['sip:user@exa mple.com', /whitespace/],
    [' sip:user@example.com', /scheme/],
    ['sip:', /missing host/],
    ['sip:user@', /missing host/],
    ['sip:user@;lr', /missing host/],
    ['sip:host:70000', /bad port/],
    ['sip:host:', /bad port/],
    ['sip:host:123456', /bad port/],
    ['sip:host:5o60', /bad SIP URI/],
    ['sip:us%4ger@host', /escape/],
    ['sip:user%@host', /escape/],
    ['sip:user@host%', /character/],
    ['sip:@host', /empty user/],
    ['sip:host;=x', /empty or bad uri-parameter/],
    ['sip:host;a=', /empty or bad uri-parameter value/],
    ['sip:host;a= b', /whitespace/],
    ['sip:host?x', /URI header/],
    ['sip:[::1', /IPv6/],
    ['user@example.com', /scheme/],
    ['1sip:host', /scheme/],
    ['tel:', /bad URI/],
    ['http://a b', /bad URI/],
  ])('rejects %j', (input, why) => {
    expect(() => parseSipUri(input)).toThrow(why)
    try {
      parseSipUri(input)
    } catch (err) {
      expect(err).toBeInstanceOf(SipUriError)
      expect(err).toBeInstanceOf(KaiwaError)
      expect((err as SipUriError).code).toBe('invalid_input')
    }
  })
})

describe('parseNameAddr', () => {
  it('unquotes quoted display names with quoted-pairs (wsinv, intmeth)', () => {
    const a = parseNameAddr(
      '"J Rosenberg \\\\\\""       <sip:jdrosen@example.com>   ;   tag = 98asjd8',
    )
    expect(a.displayName).toBe('J Rosenberg \\"')
    expect(a.uri.raw).toBe('sip:jdrosen@example.com')
    expect(a.params.get('tag')).toBe('98asjd8')
    expect(a.bracketed).toBe(true)
    const b = parseNameAddr('"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:x@example.com>')
    expect(b.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f')
  })

  it('accepts token display names, with or without LWS before < (lwsdisp)', () => {
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=323')).toMatchObject({
      displayName: 'caller',
    })
    const t = parseNameAddr('token1~` token2\'+_ token3*%!.- <sip:mundane@example.com>;x="ðŸ"')
    expect(t.displayName).toBe("token1~` token2'+_ token3*%!.-")
    expect(t.params.get('x')).toBe('"ðŸ"')
    expect(parseNameAddr('A. Bell <sip:a.g.bell@example.com>').displayName).toBe('A. Bell')
    expect(parseNameAddr('<sip:a@b>').displayName).toBeUndefined()
  })

  it('gives the params after a bare addr-spec to the header (RFC 3261 §20.10)', () => {
    const bare = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam')
    expect(bare.uri.raw).toBe('sip:+19725552222@gw1.example.net')
    expect([...bare.params]).toEqual([['unknownparam', null]])
    expect(bare.bracketed).toBe(false)
    const inside = parseNameAddr('<sip:+19725552222@gw1.example.net;unknownparam>')
    expect(inside.params.size).toBe(0)
    expect((inside.uri as SipUri).params.has('unknownparam')).toBe(true)
    const ws = parseNameAddr('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n')
    expect(ws.params.get('tag')).toBe('1918181833n')
  })

  it('keeps URI headers inside <> (regescrt) and unknown schemes (unksm2)', () => {
    const r = parseNameAddr('<sip:user@example.com?Route=%3Csip:sip.example.com%3E>')
    expect((r.uri as SipUri).headers).toEqual([
      { name: 'Route', value: '%3Csip:sip.example.com%3E' },
    ])
    expect(parseNameAddr('isbn:2983792873').uri).toMatchObject({ kind: 'other', scheme: 'isbn' })
    expect(parseNameAddr('<http://www.example.com>;tag=3234233').uri.scheme).toBe('http')
    expect(parseNameAddr('<name:John_Smith>').uri.scheme).toBe('name')
  })

  it.each([
    ['"Mr. J. User <sip:j.user@example.com>', /unterminated quoted string/], // quotbal
    ['Bell, Alexander <sip:a.g.bell@example.com>;tag=43', /display name/], // baddn
    ['Watson, Thomas <sip:t.watson@example.org>', /display name/],
    ['"Watson, Thomas" < sip:t.watson@example.org >', /scheme/], // badaspec
    ['sip:user@example.com?Route=%3Csip:sip.example.com%3E', /§20.10/], // regbadct
    ['"Joe" <sip:joe@example.org>;;;;', /parameter name/], // badinv01
    ['<sip:a@b', /missing >/],
    ['"x" sip:a@b', /expected </],
    ['<sip:a@b> junk', /parameter list/],
    ['<sip:a@b>;tag=', /empty value/],
    ['<sip:a@b>;tag="x', /unterminated/],
    ['', /empty address/],
    ['alan@jasomi.com', /display name/],
  ])('rejects %j', (input, why) => {
    expect(() => parseNameAddr(input)).toThrow(why)
  })
})

describe('parseVia', () => {
  it('accepts LWS around / and : and params (wsinv)', () => {
    expect(parseVia('SIP  /   2.0 /UDP    192.0.2.2;branch=390skdjuw')).toMatchObject({
      protocol: 'SIP',
      version: '2.0',
      transport: 'UDP',
      host: '192.0.2.2',
      branch: '390skdjuw',
    })
    const v = parseVia('SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239')
    expect(v.branch).toBe('z9hG4bK30239')
    expect(parseVia('SIP/2.0/tcp h.example.com : 5070 ;rport').port).toBe(5070)
  })

  it('parses IPv6 sent-by, flags and received', () => {
    const v = parseVia('SIP/2.0/UDP [2001:db8::9]:5060;received=2001:db8::1;rport;branch=z9hG4bKx')
    expect(v).toMatchObject({ host: '[2001:db8::9]', port: 5060, branch: 'z9hG4bKx' })
    expect(v.params.get('rport')).toBeNull()
    expect(v.params.get('received')).toBe('2001:db8::1')
    expect(parseVia('SIP/2.0/UNKNOWN t4.example.com').transport).toBe('UNKNOWN')
    expect(parseVia('SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw').version).toBe('7.0')
  })

  it.each([
    ['SIP/2.0/UDP 192.0.2.15;;', /parameter name/],
    ['SIP/2.0 host', /sent-protocol/],
    ['SIP/2.0/UDP', /whitespace/],
    ['SIP/2.0/UDP ', /missing Via sent-by/],
    ['SIP/2.0/UDP host:99999', /bad port/],
  ])('rejects %j', (input, why) => {
    expect(() => parseVia(input)).toThrow(why)
  })

  it('treats a valueless branch as absent', () => {
    expect(parseVia('SIP/2.0/UDP host;branch').branch).toBeUndefined()
  })
})

describe('parameter helpers', () => {
  it('parseHeaderParams handles SWS, quoted values and case-insensitive names', () => {
    const p = parseHeaderParams(' ; newparam =\t newvalue ;  secondparam ; Q = 0.33;x="a;b\\"c"')
    expect([...p]).toEqual([
      ['newparam', 'newvalue'],
      ['secondparam', null],
      ['q', '0.33'],
      ['x', '"a;b\\"c"'],
    ])
    expect(unquote('"a;b\\"c"')).toBe('a;b"c')
    expect(unquote('plain')).toBe('plain')
  })
})
