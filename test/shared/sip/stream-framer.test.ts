import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { serializeSipMessage } from '../../../src/shared/sip/sip-message.js'
import type { SipMessage } from '../../../src/shared/sip/sip-message.js'
import { SipStreamFramer } from '../../../src/shared/sip/stream-framer.js'
import type { FramerResult } from '../../../src/shared/sip/stream-framer.js'

const DIR = new URL('../../../../shared/testdata/rfc4475/', import.meta.url)
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`${name}.sip`, DIR)))
const enc = new TextEncoder()
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
const CRLF = enc.encode('\r\n')

// wsinv (folding, compact forms), mpart01 (binary body with CR/LF/NUL), esc01 (body).
const MESSAGES = [load('wsinv'), load('mpart01'), load('esc01')]
const STREAM = concat(...MESSAGES)

const messages = (results: FramerResult[]): SipMessage[] =>
  results.map((r) => {
    if (!r.ok || r.keepalive) throw new Error(`unexpected ${JSON.stringify(r)}`)
    return r.message
  })

describe('SipStreamFramer', () => {
  it('emits the messages of one chunk, consuming exactly their bytes', () => {
    const out = messages(new SipStreamFramer().push(STREAM))
    expect(out.map((m) => (m.kind === 'request' ? m.method : m.status))).toEqual([
      'INVITE',
      'MESSAGE',
      'INVITE',
    ])
    expect(out[1]!.body.length).toBe(553)
  })

  it('gives the same 3 messages however the bytes are split', () => {
    const expected = messages(new SipStreamFramer().push(STREAM)).map(serializeSipMessage)
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const f = new SipStreamFramer()
      const got = [...f.push(STREAM.subarray(0, cut)), ...f.push(STREAM.subarray(cut))]
      expect(messages(got).map(serializeSipMessage), `cut at ${cut}`).toEqual(expected)
      expect(f.buffered).toBe(0)
    }
    const f = new SipStreamFramer()
    const got: FramerResult[] = []
    for (let i = 0; i < STREAM.length; i++) got.push(...f.push(STREAM.subarray(i, i + 1)))
    expect(messages(got).map(serializeSipMessage)).toEqual(expected)
  })

  it('does not alias its buffer in emitted bodies', () => {
    const f = new SipStreamFramer()
    const [first] = messages(f.push(MESSAGES[2]!))
    const body = first!.body.slice()
    f.push(STREAM)
    expect(first!.body).toEqual(body)
  })

  it('reports double-CRLF pings and skips single-CRLF pongs (RFC 5626 §3.5.1)', () => {
    const f = new SipStreamFramer()
    expect(f.push(enc.encode('\r\n\r\n'))).toEqual([{ ok: true, keepalive: true }])
    expect(f.push(CRLF)).toEqual([]) // could be half a ping: wait
    expect(f.push(CRLF)).toEqual([{ ok: true, keepalive: true }])
    const out = f.push(concat(CRLF, MESSAGES[0]!, enc.encode('\r\n\r\n\r\n\r\n'), MESSAGES[2]!))
    expect(
      out.map((r) => ('keepalive' in r && r.keepalive ? 'ping' : r.ok ? 'msg' : 'err')),
    ).toEqual(['msg', 'ping', 'ping', 'msg'])
    expect(f.push(enc.encode('\r\n\r'))).toEqual([])
    expect(f.push(enc.encode('\n'))).toEqual([{ ok: true, keepalive: true }])
    expect(f.buffered).toBe(0)
  })

  it('stops after a framing error (missing Content-Length) and reports it once', () => {
    const f = new SipStreamFramer()
    const out = f.push(concat(MESSAGES[0]!, load('inv2543'), MESSAGES[2]!))
    expect(out).toHaveLength(2)
    expect(out[0]!.ok).toBe(true)
    const bad = out[1]!
    expect(!bad.ok && bad.error).toMatchObject({ status: 400, framing: true, respondable: true })
    expect(f.failed).toBe(true)
    expect(f.push(MESSAGES[2]!)).toEqual([])
  })

  it('reports a well-framed bad message and carries on', () => {
    const f = new SipStreamFramer()
    const out = f.push(concat(load('quotbal'), MESSAGES[2]!))
    expect(out.map((r) => r.ok)).toEqual([false, true])
    const bad = out[0]!
    expect(!bad.ok && bad.error).toMatchObject({ status: 400, framing: false })
    expect(f.failed).toBe(false)
  })

  it('errors when more than maxBytes are buffered without a complete head', () => {
    const f = new SipStreamFramer({ maxBytes: 4096 })
    expect(f.push(enc.encode('INVITE sip:a@b SIP/2.0\r\nX: ' + 'y'.repeat(3000)))).toEqual([])
    const out = f.push(enc.encode('z'.repeat(2000)))
    expect(out).toHaveLength(1)
    expect(!out[0]!.ok && out[0]!.error).toMatchObject({
      status: undefined,
      framing: true,
      respondable: false,
    })
    expect(f.push(MESSAGES[2]!)).toEqual([])
  })

  it('errors at once on a Content-Length beyond maxBytes (413)', () => {
    const f = new SipStreamFramer({ maxBytes: 2048 })
    const head = new TextDecoder().decode(MESSAGES[2]!).split('\r\n\r\n')[0]!
    const out = f.push(
      enc.encode(head.replace('Content-Length: 150', 'Content-Length: 5000') + '\r\n\r\n'),
    )
    expect(!out[0]!.ok && out[0]!.error).toMatchObject({ status: 413, framing: true })
  })

  it('handles garbage without throwing', () => {
    let seed = 7
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    for (let round = 0; round < 200; round++) {
      const f = new SipStreamFramer({ maxBytes: 8192 })
      const results: FramerResult[] = []
      for (let k = 0; k < 20 && !f.failed; k++) {
        const chunk = new Uint8Array(1 + Math.floor(rnd() * 1500))
        for (let i = 0; i < chunk.length; i++) {
          const x = rnd()
          chunk[i] = x < 0.1 ? 13 : x < 0.2 ? 10 : Math.floor(rnd() * 256)
        }
        results.push(...f.push(chunk))
      }
      expect(results.every((r) => r.ok || r.error.name === 'SipParseError')).toBe(true)
      expect(f.buffered).toBeLessThanOrEqual(8192 + 1500)
    }
    const f = new SipStreamFramer()
    const out = f.push(enc.encode('hello\r\n\r\nworld'))
    expect(out).toHaveLength(1)
    expect(!out[0]!.ok && out[0]!.error).toMatchObject({ framing: true, respondable: false })
  })
})
