import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { KaiwaError } from '../../../src/shared/errors.js'
import { cseq, topVia } from '../../../src/shared/sip/sip-message.js'
import type { SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'
import {
  MAX_HEADER_FIELDS,
  SipParseError,
  findHeadEnd,
  parseSipMessage,
} from '../../../src/shared/sip/sip-parser.js'
import type { ParseResult } from '../../../src/shared/sip/sip-parser.js'
import { parseNameAddr } from '../../../src/shared/sip/sip-uri.js'

const DIR = new URL('../../../../shared/testdata/rfc4475/', import.meta.url)
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`${name}.sip`, DIR)))
const enc = new TextEncoder()
const dec = new TextDecoder()

const SDP =
  'v=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\ns=-\r\n' +
  'c=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n'
const HEAD = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE',
  'Supported: replaces, timer',
  'User-Agent: baresip v1.0.0',
  'Content-Type: application/sdp',
]
/** A typical INVITE with SDP, as baresip would send it. */
const invite = (edit: (lines: string[]) => string[] = (l) => l, body = SDP): Uint8Array =>
  enc.encode(
    [...edit([...HEAD]), `Content-Length: ${enc.encode(body).length}`].join('\r\n') +
      '\r\n\r\n' +
      body,
  )
const replace = (from: string, to: string) => (lines: string[]) =>
  lines.map((l) => (l.startsWith(from) ? to : l)).filter((l) => l !== '')

const dgram = (b: Uint8Array | string): ParseResult =>
  parseSipMessage(typeof b === 'string' ? enc.encode(b) : b, { transport: 'datagram' })
const stream = (b: Uint8Array | string, maxBytes?: number): ParseResult =>
  parseSipMessage(typeof b === 'string' ? enc.encode(b) : b, { transport: 'stream', maxBytes })
const err = (r: ParseResult): SipParseError => {
  if (r.ok) throw new Error('expected a parse error')
  return r.error
}

describe('parseSipMessage: valid messages', () => {
  it('parses a typical INVITE', () => {
    const bytes = invite()
    const r = dgram(bytes)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const m = r.message as SipRequest
    expect(m).toMatchObject({
      kind: 'request',
      method: 'INVITE',
      uri: 'sip:bob@biloxi.example.com',
      version: 'SIP/2.0',
    })
    expect(dec.decode(m.body)).toBe(SDP)
    expect(r.consumed).toBe(bytes.length)
    expect(m.headers.getAll('Allow')).toHaveLength(8)
    expect(topVia(m)).toMatchObject({ host: 'pc33.atlanta.example.com', port: 5060 })
  })

  it('unfolds, trims and understands compact forms (wsinv)', () => {
    const r = dgram(load('wsinv'))
    if (!r.ok) throw r.error
    const m = r.message as SipRequest
    expect(m.uri).toBe('sip:vivekg@chair-dnrc.example.com;unknownparam')
    expect(m.headers.get('to')).toBe('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n')
    expect(m.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value')
    expect(m.headers.get('Subject')).toBe('')
    expect(m.headers.getAll('Via')).toHaveLength(3)
    expect(topVia(m)).toMatchObject({ transport: 'UDP', host: '192.0.2.2', branch: '390skdjuw' })
    expect(cseq(m)).toEqual({ seq: 9, method: 'INVITE' })
    expect(parseNameAddr(m.headers.get('From')!).displayName).toBe('J Rosenberg \\"')
    expect(parseNameAddr(m.headers.getAll('Contact')[0]!).params.get('q')).toBe('0.33')
    expect(m.body.length).toBe(150)
  })

  it('keeps % literally in methods and header names (esc02, intmeth)', () => {
    const e = dgram(load('esc02'))
    if (!e.ok) throw e.error
    expect((e.message as SipRequest).method).toBe('RE%47IST%45R')
    expect(e.message.headers.getAll('Contact')).toHaveLength(2)
    expect(e.message.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>')
    const i = dgram(load('intmeth'))
    if (!i.ok) throw i.error
    expect((i.message as SipRequest).method).toBe("!interesting-Method0123456789_*+`.%indeed'~")
    expect(i.message.headers.get("extensionHeader-!.%*+_`'~")).toBe('\u{FEFF}大停電') // BOM kept: only SP/HT are LWS
  })

  it('frames by Content-Length: binary bodies and trailing datagram octets', () => {
    const mp = dgram(load('mpart01'))
    if (!mp.ok) throw mp.error
    expect(mp.message.body.length).toBe(553)
    expect(mp.message.body.includes(0)).toBe(true)
    const d = dgram(load('dblreq'))
    if (!d.ok) throw d.error
    expect((d.message as SipRequest).method).toBe('REGISTER')
    expect(d.message.body.length).toBe(0)
    expect(d.consumed).toBeLessThan(load('dblreq').length)
    const noCl = dgram(load('inv2543'))
    if (!noCl.ok) throw noCl.error
    expect(dec.decode(noCl.message.body).startsWith('v=0')).toBe(true)
  })

  it('parses responses with UTF-8 or empty reason phrases', () => {
    const u = dgram(load('unreason'))
    if (!u.ok) throw u.error
    expect((u.message as SipResponse).status).toBe(200)
    expect((u.message as SipResponse).reason).toBe(
      '= 2**3 * 5**2 но сто девяносто девять - простое',
    )
    const n = dgram(load('noreason'))
    if (!n.ok) throw n.error
    expect(n.message).toMatchObject({ kind: 'response', status: 100, reason: '' })
  })

  it('ignores CRLFs before the start line (§7.5) and accepts lower-case sip/2.0 (§7.1)', () => {
    const r = stream(new Uint8Array([13, 10, 13, 10, ...invite()]))
    expect(r.ok && r.consumed).toBe(invite().length + 4)
    expect(
      dgram(invite(replace('INVITE sip', 'INVITE sip:bob@biloxi.example.com sip/2.0'))).ok,
    ).toBe(true)
  })

  it('accepts CSeq 2**31-1, Max-Forwards 0 and 255, Date in GMT, Contact *', () => {
    expect(dgram(invite(replace('CSeq', 'CSeq: 2147483647 INVITE'))).ok).toBe(true)
    expect(dgram(invite(replace('Max-Forwards', 'Max-Forwards: 0'))).ok).toBe(true)
    expect(dgram(invite(replace('Max-Forwards', 'Max-Forwards: 255'))).ok).toBe(true)
    expect(dgram(invite((l) => [...l, 'Date: Sat, 13 Nov 2010 23:29:00 GMT'])).ok).toBe(true)
    expect(dgram(invite(replace('Contact', 'Contact: *'))).ok).toBe(true)
    expect(dgram(invite((l) => [...l, 'Warning: 399 example.com "Noise"'])).ok).toBe(true)
  })
})

describe('parseSipMessage: rejected messages', () => {
  it.each([
    [
      'two SP after the method',
      400,
      replace('INVITE', 'INVITE  sip:bob@biloxi.example.com SIP/2.0'),
    ],
    ['trailing SP', 400, replace('INVITE', 'INVITE sip:bob@biloxi.example.com SIP/2.0 ')],
    ['tab separator', 400, replace('INVITE', 'INVITE\tsip:bob@biloxi.example.com SIP/2.0')],
    [
      '<> around the Request-URI',
      400,
      replace('INVITE', 'INVITE <sip:bob@biloxi.example.com> SIP/2.0'),
    ],
    ['bad Request-URI', 400, replace('INVITE', 'INVITE sip:bob@ SIP/2.0')],
    ['headers in the Request-URI', 400, replace('INVITE', 'INVITE sip:bob@b?Subject=x SIP/2.0')],
    ['SIP/3.0', 505, replace('INVITE', 'INVITE sip:bob@biloxi.example.com SIP/3.0')],
    ['HTTP/1.1', 400, replace('INVITE', 'INVITE sip:bob@biloxi.example.com HTTP/1.1')],
    ['non-token method', 400, replace('INVITE', 'INV@TE sip:bob@biloxi.example.com SIP/2.0')],
    ['missing To', 400, replace('To:', '')],
    ['missing From', 400, replace('From:', '')],
    ['missing Call-ID', 400, replace('Call-ID:', '')],
    ['two Call-IDs', 400, (l: string[]) => [...l, 'i: other@host']],
    ['two Content-Types', 400, (l: string[]) => [...l, 'c: text/plain']],
    ['CSeq 2**31', 400, replace('CSeq', 'CSeq: 2147483648 INVITE')],
    ['CSeq without method', 400, replace('CSeq', 'CSeq: 1')],
    ['CSeq method mismatch', 400, replace('CSeq', 'CSeq: 1 BYE')],
    ['Max-Forwards 256', 400, replace('Max-Forwards', 'Max-Forwards: 256')],
    ['Max-Forwards -1', 400, replace('Max-Forwards', 'Max-Forwards: -1')],
    ['header without colon', 400, (l: string[]) => [...l, 'Foobar roobar']],
    ['header name with space', 400, (l: string[]) => [...l, 'Foo bar: x']],
    ['folded first header line', 400, (l: string[]) => [l[0]!, ' folded', ...l.slice(1)]],
    ['bare LF in a header', 400, (l: string[]) => [...l, 'Subject: a\nb']],
    ['Date in EST', 400, (l: string[]) => [...l, 'Date: Fri, 01 Jan 2010 16:00:00 EST']],
    ['4-digit warn-code', 400, (l: string[]) => [...l, 'Warning: 1812 overture "x"']],
    ['empty Via element', 400, replace('Via', 'Via: SIP/2.0/UDP a;branch=z9hG4bK1,,SIP/2.0/UDP b')],
    ['Contact addr-spec with ?', 400, replace('Contact', 'Contact: sip:a@b?Route=x')],
    ['unterminated To display name', 400, replace('To:', 'To: "Bob <sip:bob@b>')],
  ])('%s → %i', (_what, status, edit) => {
    const e = err(dgram(invite(edit)))
    expect(e).toBeInstanceOf(SipParseError)
    expect(e).toBeInstanceOf(KaiwaError)
    expect(e.status).toBe(status)
    expect(e.respondable).toBe(true)
    expect(e.request?.kind).toBe('request')
    expect(e.reason).not.toMatch(/[\r\n]/)
    expect(e.reason.length).toBeLessThanOrEqual(200)
  })

  it('answers 501 for an unknown method whose CSeq does not match (mismatch02)', () => {
    const e = err(dgram(invite((l) => [l[0]!.replace('INVITE', 'NEWMETHOD'), ...l.slice(1)])))
    expect(e.status).toBe(501)
  })

  it('never answers an ACK, and drops requests without Via or CSeq', () => {
    const ack = (l: string[]) =>
      l.map((x) => x.replace(/^INVITE /, 'ACK ').replace('314159 INVITE', '314159 ACK'))
    expect(err(dgram(invite((l) => [...ack(l), 'Foobar'])))).toMatchObject({ respondable: false })
    expect(err(dgram(invite((l) => replace('Via', '')(l).concat('Foobar'))))).toMatchObject({
      respondable: false,
      status: undefined,
    })
    expect(err(dgram(invite(replace('CSeq', ''))))).toMatchObject({ respondable: false })
  })

  it.each([
    ['4-digit status', 'SIP/2.0 1000 Huh'],
    ['status 99', 'SIP/2.0 099 Huh'],
    ['status 700', 'SIP/2.0 700 Huh'],
    ['no reason SP', 'SIP/2.0 200'],
    ['SIP/3.0 response', 'SIP/3.0 200 OK'],
    ['control char in reason', 'SIP/2.0 200 O\x01K'],
  ])('drops a response with %s', (_what, line) => {
    const bytes = enc.encode(
      [
        line,
        'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
        'To: <sip:a@b>',
        'From: <sip:c@d>;tag=1',
        'Call-ID: x',
        'CSeq: 1 INVITE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    )
    const e = err(dgram(bytes))
    expect(e.respondable).toBe(false)
    expect(e.status).toBeUndefined()
  })

  it('datagram framing: short body → 400, missing blank line → 400, oversize → drop', () => {
    const short = invite().slice(0, -10)
    expect(err(dgram(short)).status).toBe(400)
    const head = invite((l) => l, '')
    expect(err(dgram(head.slice(0, -2))).reason).toMatch(/no empty line/)
    const big = new Uint8Array(70_000).fill(65)
    expect(err(dgram(big))).toMatchObject({ status: undefined, respondable: false })
    expect(err(dgram(new Uint8Array([13, 10, 13, 10]))).respondable).toBe(false)
    expect(err(dgram(new Uint8Array(0))).respondable).toBe(false)
  })

  it('stream framing: incomplete, missing/bad/duplicate Content-Length, too big', () => {
    const full = invite()
    for (const cut of [0, 1, 10, full.length - SDP.length - 1, full.length - 1]) {
      const e = err(stream(full.slice(0, cut)))
      expect(e.incomplete, `cut ${cut}`).toBe(true)
      if (cut >= full.length - SDP.length) expect(e.needed).toBe(full.length)
    }
    const noCl = enc.encode(HEAD.join('\r\n') + '\r\n\r\n')
    expect(err(stream(noCl))).toMatchObject({ status: 400, framing: true, respondable: true })
    expect(dgram(noCl).ok).toBe(true) // a datagram needs no Content-Length
    const neg = enc.encode(HEAD.join('\r\n') + '\r\nContent-Length: -1\r\n\r\n')
    expect(err(stream(neg))).toMatchObject({ status: 400, framing: true })
    const two = invite((l) => [...l, 'l: 3'])
    expect(err(stream(two))).toMatchObject({ status: 400, framing: true })
    const huge = enc.encode(HEAD.join('\r\n') + '\r\nContent-Length: 100000\r\n\r\n')
    expect(err(stream(huge))).toMatchObject({ status: 413, framing: true, respondable: true })
    const longHead = new Uint8Array(2000).fill(65)
    expect(err(stream(longHead, 1000))).toMatchObject({ respondable: false, framing: true })
    expect(err(stream(longHead, 4000)).incomplete).toBe(true)
  })

  it('stream: a well-framed bad message reports consumed so parsing can continue', () => {
    const bad = invite(replace('To:', 'To: "Bob <sip:bob@b>'))
    const e = err(stream(new Uint8Array([...bad, ...invite()])))
    expect(e).toMatchObject({ status: 400, framing: false, consumed: bad.length })
  })

  it('caps header fields and line length', () => {
    const many = invite((l) => [
      ...l,
      ...Array.from({ length: MAX_HEADER_FIELDS }, (_, i) => `X-H${i}: ${i}`),
    ])
    expect(err(dgram(many))).toMatchObject({ status: 513, respondable: true })
    const long = invite((l) => [...l, `X-Long: ${'a'.repeat(20_000)}`])
    expect(err(dgram(long)).status).toBe(513)
  })

  it('drops a message whose Via is broken only if it has no Via at all', () => {
    // A syntactically broken Via is still copied into the 400 (badinv01).
    const e = err(dgram(invite(replace('Via', 'Via: SIP/2.0/UDP 192.0.2.15;;,;,,'))))
    expect(e).toMatchObject({ status: 400, respondable: true })
  })
})

describe('findHeadEnd', () => {
  it('finds the first CRLFCRLF within bounds', () => {
    const b = enc.encode('ab\r\ncd\r\n\r\nbody\r\n\r\n')
    expect(findHeadEnd(b, 0)).toBe(10)
    expect(findHeadEnd(b, 0, 9)).toBe(-1)
    expect(findHeadEnd(b, 7)).toBe(18)
    expect(findHeadEnd(enc.encode('\r\n\r'), 0)).toBe(-1)
  })
})

/** Deterministic PRNG (mulberry32) so a failing mutation can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('robustness', () => {
  it('survives 20k random mutations of torture messages without throwing', () => {
    const names = readFileSync(new URL('manifest.tsv', DIR), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t')[0]!)
    const corpus = names.map(load)
    const rnd = prng(4475)
    const pick = (n: number): number => Math.floor(rnd() * n)
    const interesting = [0, 9, 10, 13, 32, 34, 37, 44, 58, 59, 60, 62, 92, 0xff]
    let worst = 0
    let oks = 0
    for (let i = 0; i < 20_000; i++) {
      const bytes = Array.from(corpus[pick(corpus.length)]!)
      for (let k = 1 + pick(4); k > 0; k--) {
        const at = pick(bytes.length + 1)
        const byte = rnd() < 0.5 ? interesting[pick(interesting.length)]! : pick(256)
        const op = pick(3)
        if (op === 0) bytes[at] = byte
        else if (op === 1) bytes.splice(at, 0, byte)
        else bytes.splice(at, 1 + pick(8))
      }
      const input = new Uint8Array(bytes)
      for (const transport of ['datagram', 'stream'] as const) {
        const t0 = performance.now()
        const r = parseSipMessage(input, { transport })
        worst = Math.max(worst, performance.now() - t0)
        if (r.ok) {
          oks++
          expect(r.consumed).toBeLessThanOrEqual(input.length)
        } else {
          expect(r.error).toBeInstanceOf(SipParseError)
          expect(r.error.reason).not.toMatch(/internal parser error/)
          if (r.error.respondable) expect(r.error.status).toBeGreaterThanOrEqual(400)
        }
      }
    }
    console.log(`fuzz: 40k parses, ${oks} accepted, slowest ${worst.toFixed(2)} ms`)
    expect(worst).toBeLessThan(250)
  })
})

describe('performance', () => {
  it('parses a typical INVITE well under 50 µs (printed, not asserted)', () => {
    const bytes = invite()
    for (let i = 0; i < 20_000; i++) parseSipMessage(bytes, { transport: 'datagram' })
    const n = 10_000
    const t0 = performance.now()
    for (let i = 0; i < n; i++) parseSipMessage(bytes, { transport: 'datagram' })
    const us = ((performance.now() - t0) * 1000) / n
    console.log(`parseSipMessage: ${us.toFixed(2)} µs per ${bytes.length}-byte INVITE (${n} runs)`)
    expect(us).toBeGreaterThan(0)
  })
})
