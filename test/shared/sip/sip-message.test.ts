import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  SipHeaderError,
  SipHeaders,
  buildCancel,
  callId,
  createResponse,
  cseq,
  fromTag,
  serializeSipMessage,
  splitHeaderList,
  toTag,
  topVia,
  transactionKey,
} from '../../../src/shared/sip/sip-message.js'
import type { SipMessage, SipRequest, SipResponse } from '../../../src/shared/sip/sip-message.js'
import { parseSipMessage } from '../../../src/shared/sip/sip-parser.js'

const DIR = new URL('../../../../shared/testdata/rfc4475/', import.meta.url)
const enc = new TextEncoder()
const dec = new TextDecoder()

function parse(bytes: Uint8Array | string): SipMessage {
  const r = parseSipMessage(typeof bytes === 'string' ? enc.encode(bytes) : bytes, {
    transport: 'datagram',
  })
  if (!r.ok) throw new Error(r.error.reason)
  return r.message
}
const request = (lines: string[], body = ''): SipRequest =>
  parse(lines.join('\r\n') + '\r\n\r\n' + body) as SipRequest

const INVITE = [
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
  'Via: SIP/2.0/TCP proxy.example.com:5070;branch=z9hG4bKnashds8',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Content-Length: 0',
]

describe('SipHeaders', () => {
  it('looks up case-insensitively and through compact forms (§7.3.3)', () => {
    const h = new SipHeaders([
      ['i', 'abc@host'],
      { name: 'cONTACT', value: ' <sip:a@b> ' },
      ['m', '<sip:c@d>'],
      ['X-Custom', 'one'],
      ['x-custom', 'two'],
    ])
    expect(h.get('Call-ID')).toBe('abc@host')
    expect(h.get('call-id')).toBe('abc@host')
    expect(h.get('Contact')).toBe('<sip:a@b>')
    expect(h.getAll('m')).toEqual(['<sip:a@b>', '<sip:c@d>'])
    expect(h.getAll('X-CUSTOM')).toEqual(['one', 'two'])
    expect(h.count('contact')).toBe(2)
    expect(h.has('l')).toBe(false)
    expect(h.get('Subject')).toBeUndefined()
    for (const [compact, long] of [
      ['e', 'Content-Encoding'],
      ['l', 'Content-Length'],
      ['c', 'Content-Type'],
      ['f', 'From'],
      ['t', 'To'],
      ['v', 'Via'],
      ['k', 'Supported'],
      ['s', 'Subject'],
      ['o', 'Event'],
      ['u', 'Allow-Events'],
      ['r', 'Refer-To'],
      ['b', 'Referred-By'],
      ['x', 'Session-Expires'],
      ['y', 'Identity'],
      ['a', 'Accept-Contact'],
      ['j', 'Reject-Contact'],
      ['d', 'Request-Disposition'],
    ] as const) {
      expect(new SipHeaders([[compact, 'v']]).get(long), compact).toBe('v')
    }
  })

  it('splits list headers on commas outside quotes and <> only', () => {
    const h = new SipHeaders([
      ['Contact', '"Watson, Thomas" <sip:t@example.org;x=a,b>;q=0.5, sip:u@example.com'],
      ['Allow', 'INVITE,ACK , BYE'],
      ['Supported', ''],
      ['Route', '<sip:a;lr>,,<sip:b;lr>'],
      ['Subject', 'hello, world'],
      ['Authorization', 'Digest username="a", realm="b"'],
    ])
    expect(h.getAll('Contact')).toEqual([
      '"Watson, Thomas" <sip:t@example.org;x=a,b>;q=0.5',
      'sip:u@example.com',
    ])
    expect(h.getAll('Allow')).toEqual(['INVITE', 'ACK', 'BYE'])
    expect(h.getAll('Supported')).toEqual([])
    expect(h.getAll('Route')).toEqual(['<sip:a;lr>', '<sip:b;lr>'])
    expect(h.getAll('Subject')).toEqual(['hello, world'])
    expect(h.getAll('Authorization')).toEqual(['Digest username="a", realm="b"'])
    expect(splitHeaderList('a,,"b\\",c", d')).toEqual(['a', '', '"b\\",c"', 'd'])
  })

  it('set / add / prepend / remove keep order', () => {
    const h = new SipHeaders([
      ['Via', 'SIP/2.0/UDP a'],
      ['To', '<sip:x@y>'],
      ['v', 'SIP/2.0/UDP b'],
      ['Max-Forwards', '70'],
    ])
    h.prepend('Via', 'SIP/2.0/UDP new')
    expect(h.getAll('via')).toEqual(['SIP/2.0/UDP new', 'SIP/2.0/UDP a', 'SIP/2.0/UDP b'])
    h.prepend('Route', '<sip:r;lr>')
    expect([...h][0]).toEqual({ name: 'Route', value: '<sip:r;lr>' })
    h.set('Max-Forwards', '69').set('Via', 'SIP/2.0/TCP only')
    expect([...h].map((e) => e.name)).toEqual(['Route', 'Via', 'To', 'Max-Forwards'])
    expect(h.get('max-forwards')).toBe('69')
    h.add('Subject', 'x').set('Priority', 'urgent')
    expect(h.remove('V')).toBe(1)
    expect(h.remove('nothing')).toBe(0)
    expect([...h].map((e) => e.name)).toEqual([
      'Route',
      'To',
      'Max-Forwards',
      'Subject',
      'Priority',
    ])
    const copy = h.clone()
    copy.set('To', '<sip:z@y>')
    expect(h.get('To')).toBe('<sip:x@y>')
    expect(h.size).toBe(5)
  })

  it('refuses header injection and bad names', () => {
    const h = new SipHeaders()
    expect(() => h.add('Subject', 'a\r\nVia: evil')).toThrow(SipHeaderError)
    expect(() => h.set('Subject', 'a\nb')).toThrow(SipHeaderError)
    expect(() => h.add('Bad Name', 'x')).toThrow(SipHeaderError)
    expect(() => h.prepend('', 'x')).toThrow(SipHeaderError)
  })
})

describe('serializeSipMessage', () => {
  it('always writes the real Content-Length, replacing a wrong one in place', () => {
    const headers = new SipHeaders([
      ['Via', 'SIP/2.0/UDP h;branch=z9hG4bK1'],
      ['l', '999'],
      ['Content-Length', '3'],
      ['Subject', 'x'],
    ])
    const body = enc.encode('hello')
    const msg: SipRequest = {
      kind: 'request',
      method: 'MESSAGE',
      uri: 'sip:a@b',
      version: 'SIP/2.0',
      headers,
      body,
    }
    expect(dec.decode(serializeSipMessage(msg))).toBe(
      'MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nl: 5\r\nSubject: x\r\n\r\nhello',
    )
    const res: SipResponse = {
      kind: 'response',
      status: 180,
      reason: 'Ringing',
      version: 'SIP/2.0',
      headers: new SipHeaders([['To', '<sip:a@b>']]),
      body: new Uint8Array(0),
    }
    expect(dec.decode(serializeSipMessage(res))).toBe(
      'SIP/2.0 180 Ringing\r\nTo: <sip:a@b>\r\nContent-Length: 0\r\n\r\n',
    )
  })

  it('refuses CR/LF in the start line; createResponse cleans its reason', () => {
    const headers = new SipHeaders()
    const body = new Uint8Array(0)
    const msg: SipRequest = {
      kind: 'request',
      method: 'OPTIONS',
      uri: 'sip:a@b\r\nVia: x',
      version: 'SIP/2.0',
      headers,
      body,
    }
    expect(() => serializeSipMessage(msg)).toThrow(SipHeaderError)
    const inv = request(INVITE)
    const res = createResponse(inv, 404, 'No user\r\nVia: evil')
    expect(res.reason).toBe('No user Via: evil')
    expect(dec.decode(serializeSipMessage(res)).split('\r\n')[0]).toBe(
      'SIP/2.0 404 No user Via: evil',
    )
  })

  const rows = readFileSync(new URL('manifest.tsv', DIR), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'))
    .filter((r) => r[1] === 'valid')
    .map((r) => r[0]!)

  it.each(rows)('round-trips %s: serialize(parse(x)) parses to the same message', (name) => {
    const original = parse(new Uint8Array(readFileSync(new URL(`${name}.sip`, DIR))))
    const wire = serializeSipMessage(original)
    for (const transport of ['datagram', 'stream'] as const) {
      const r = parseSipMessage(wire, { transport })
      expect(r.ok).toBe(true)
      if (!r.ok) continue
      const again = r.message
      expect(r.consumed).toBe(wire.length)
      expect(again.kind).toBe(original.kind)
      if (again.kind === 'request' && original.kind === 'request') {
        expect(again.method).toBe(original.method)
        expect(again.uri).toBe(original.uri)
      } else if (again.kind === 'response' && original.kind === 'response') {
        expect([again.status, again.reason]).toEqual([original.status, original.reason])
      }
      const strip = (m: SipMessage) =>
        [...m.headers].filter((h) => !/^(content-length|l)$/i.test(h.name))
      expect(strip(again)).toEqual(strip(original))
      expect(again.body).toEqual(original.body)
      expect(again.headers.getAll('Content-Length')).toEqual([String(original.body.length)])
    }
  })
})

describe('message helpers', () => {
  const inv = request(INVITE)

  it('reads top Via, CSeq, Call-ID and tags', () => {
    expect(topVia(inv)).toMatchObject({
      transport: 'UDP',
      host: 'pc33.atlanta.example.com',
      branch: 'z9hG4bK776asdhds',
    })
    expect(
      topVia(
        request(INVITE.map((l) => (l.startsWith('Via: SIP/2.0/TCP') ? '' : l)).filter(Boolean)),
      ).port,
    ).toBeUndefined()
    expect(cseq(inv)).toEqual({ seq: 314159, method: 'INVITE' })
    expect(callId(inv)).toBe('a84b4c76e66710@pc33.atlanta.example.com')
    expect(fromTag(inv)).toBe('1928301774')
    expect(toTag(inv)).toBeUndefined()
    const bare = { ...inv, headers: new SipHeaders() }
    expect(() => topVia(bare)).toThrow(SipHeaderError)
    expect(() => cseq(bare)).toThrow(SipHeaderError)
    expect(() => callId(bare)).toThrow(SipHeaderError)
    expect(fromTag(bare)).toBeUndefined()
  })

  it('keys transactions by branch + sent-by + method, ACK → INVITE (§17.2.3)', () => {
    const key = transactionKey(inv)
    expect(key).toBe('z9hG4bK776asdhds|pc33.atlanta.example.com:|INVITE')
    const ack = request(
      INVITE.map((l) => l.replace(/^INVITE /, 'ACK ').replace('314159 INVITE', '314159 ACK')),
    )
    expect(transactionKey(ack)).toBe(key)
    const cancel = buildCancel(inv)
    expect(transactionKey(cancel)).not.toBe(key)
    expect(transactionKey(cancel, 'INVITE')).toBe(key)
    const res = createResponse(inv, 180, 'Ringing', [], 'as9d8f')
    expect(transactionKey(res)).toBe(key)
    const otherHost = request(INVITE.map((l) => l.replace('pc33.atlanta', 'PC34.atlanta')))
    expect(transactionKey(otherHost)).not.toBe(key)
  })

  it('falls back to RFC 2543 matching without the magic cookie (inv2543, badbranch)', () => {
    const old = request(INVITE.map((l) => l.replace(';branch=z9hG4bK776asdhds', '')))
    const k = transactionKey(old)
    expect(k.startsWith('2543|sip:bob@biloxi.example.com|1928301774|')).toBe(true)
    // The ACK for a non-2xx carries the UAS's To tag but still matches its INVITE.
    const ack = request(
      INVITE.map((l) =>
        l
          .replace(';branch=z9hG4bK776asdhds', '')
          .replace(/^INVITE /, 'ACK ')
          .replace('314159 INVITE', '314159 ACK')
          .replace(
            'To: Bob <sip:bob@biloxi.example.com>',
            'To: Bob <sip:bob@biloxi.example.com>;tag=x',
          ),
      ),
    )
    expect(transactionKey(ack)).toBe(k)
    const bare = request(INVITE.map((l) => l.replace('z9hG4bK776asdhds', 'z9hG4bK')))
    expect(transactionKey(bare).startsWith('2543|')).toBe(true)
  })

  it('createResponse copies Via/From/To/Call-ID/CSeq (§8.2.6.2) and adds the To tag', () => {
    const res = createResponse(
      inv,
      200,
      'OK',
      [['Contact', '<sip:bob@192.0.2.4>'], { name: 'Allow', value: 'INVITE' }],
      'tag77',
    )
    expect(res).toMatchObject({ kind: 'response', status: 200, reason: 'OK', version: 'SIP/2.0' })
    expect(res.headers.getAll('Via')).toEqual(inv.headers.getAll('Via'))
    expect(res.headers.get('From')).toBe(inv.headers.get('From'))
    expect(res.headers.get('To')).toBe('Bob <sip:bob@biloxi.example.com>;tag=tag77')
    expect(toTag(res)).toBe('tag77')
    expect(res.headers.get('Call-ID')).toBe(inv.headers.get('Call-ID'))
    expect(res.headers.get('CSeq')).toBe('314159 INVITE')
    // §12.1.1: a dialog-creating response carries the Record-Route set.
    expect(res.headers.getAll('Record-Route')).toEqual([
      '<sip:p1.example.com;lr>',
      '<sip:p2.example.com;lr>',
    ])
    expect(res.headers.get('Contact')).toBe('<sip:bob@192.0.2.4>')
    expect(res.headers.get('Content-Length')).toBe('0')
    expect(res.body.length).toBe(0)
    expect(res.headers.has('Max-Forwards')).toBe(false)

    const trying = createResponse(inv, 100, 'Trying', undefined, 'tag77')
    expect(toTag(trying)).toBeUndefined()
    expect(trying.headers.has('Record-Route')).toBe(false)
    const busy = createResponse(inv, 486, 'Busy Here')
    expect(busy.headers.has('Record-Route')).toBe(false)
    const tagged = request(INVITE.map((l) => (l.startsWith('To:') ? `${l};tag=existing` : l)))
    expect(toTag(createResponse(tagged, 200, 'OK', [], 'new'))).toBe('existing')
    const wire = dec.decode(serializeSipMessage(busy))
    expect(wire.startsWith('SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP pc33')).toBe(true)
    expect(wire.endsWith('Content-Length: 0\r\n\r\n')).toBe(true)
  })

  it('buildCancel follows §9.1', () => {
    const withRoute = request([
      ...INVITE.slice(0, -1),
      'Route: <sip:p1.example.com;lr>',
      'Content-Length: 0',
    ])
    const c = buildCancel(withRoute)
    expect(c).toMatchObject({ method: 'CANCEL', uri: withRoute.uri })
    expect(c.headers.getAll('Via')).toEqual([
      'SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds',
    ])
    expect(c.headers.get('CSeq')).toBe('314159 CANCEL')
    for (const h of ['From', 'To', 'Call-ID', 'Route', 'Max-Forwards'])
      expect(c.headers.get(h), h).toBe(withRoute.headers.get(h))
    expect(parseSipMessage(serializeSipMessage(c), { transport: 'stream' }).ok).toBe(true)
  })
})
