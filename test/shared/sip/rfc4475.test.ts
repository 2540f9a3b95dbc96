/**
 * RFC 4475 torture messages (exact bytes from the RFC's Appendix A archive), each
 * parsed as one UDP datagram and as the start of a stream.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createResponse, serializeSipMessage } from '../../../src/shared/sip/sip-message.js'
import { parseSipMessage } from '../../../src/shared/sip/sip-parser.js'
import type { ParseResult } from '../../../src/shared/sip/sip-parser.js'

const DIR = new URL('../../../../shared/testdata/rfc4475/', import.meta.url)

interface Row {
  name: string
  verdict: 'valid' | 'invalid'
  section: string
  bytes: number
  sha256: string
}

const rows: Row[] = readFileSync(new URL('manifest.tsv', DIR), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [name, verdict, section, , bytes, sha256] = line.split('\t')
    return {
      name: name!,
      verdict: verdict as Row['verdict'],
      section: section!,
      bytes: Number(bytes),
      sha256: sha256!,
    }
  })

const load = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`${name}.sip`, DIR)))

/** 'ok', a status we answer with, 'drop' (not respondable) or 'incomplete' (stream waits). */
type Expect = 'ok' | 400 | 501 | 505 | 'drop' | 'incomplete'

/** Datagram treatment of every message; the choices are explained in sip-parser.ts. */
const DATAGRAM: Record<string, Expect> = {
  wsinv: 'ok',
  intmeth: 'ok',
  esc01: 'ok',
  escnull: 'ok',
  esc02: 'ok', // RE%47IST%45R is just an unknown method (the UAS answers 501 later)
  lwsdisp: 'ok',
  longreq: 'ok',
  dblreq: 'ok', // trailing octets after Content-Length ignored
  semiuri: 'ok',
  transports: 'ok',
  mpart01: 'ok',
  unreason: 'ok',
  noreason: 'ok',
  badinv01: 400,
  clerr: 400,
  ncl: 400,
  scalar02: 400,
  scalarlg: 'drop', // a response: never answered
  quotbal: 400,
  ltgtruri: 400, // strict: RFC 4475 allows stripping <> too
  lwsruri: 400,
  lwsstart: 400, // strict: liberal acceptance also allowed
  trws: 400, // strict: liberal acceptance also allowed
  escruri: 400, // strict: ignoring the headers also allowed
  baddate: 400, // strict: ignoring an unused Date also allowed
  regbadct: 400,
  badaspec: 400,
  baddn: 400,
  badvers: 505,
  mismatch01: 400,
  mismatch02: 501, // unknown method + CSeq mismatch: 501 (400 also allowed)
  bigcode: 'drop',
  badbranch: 'ok', // transaction layer falls back to RFC 2543 matching
  insuf: 400, // Via and CSeq present, so a 400 can be routed back
  unkscm: 'ok', // the caller answers 416
  novelsc: 'ok',
  unksm2: 'ok',
  bext01: 'ok',
  invut: 'ok',
  regaut01: 'ok',
  multi01: 400,
  mcl01: 400,
  bcast: 'ok',
  zeromf: 'ok',
  cparam01: 'ok',
  cparam02: 'ok',
  regescrt: 'ok',
  sdp01: 'ok',
  inv2543: 'ok',
  test: 'drop', // no SIP-Version and no Via: nothing to answer to
}

/**
 * Stream treatment differs only where framing differs (§18.3):
 * - no Content-Length (inv2543) is a framing error: 400 (Content-Length is mandatory
 *   on streams), then the caller closes;
 * - clerr's Content-Length (9999) exceeds the bytes present: the framer waits;
 * - baddn's archive file lacks the final empty line, so its header section never ends:
 *   the framer waits (on a datagram the end of the packet ends it, and the bad display
 *   name draws 400).
 */
const STREAM: Record<string, Expect> = {
  ...DATAGRAM,
  inv2543: 400,
  clerr: 'incomplete',
  baddn: 'incomplete',
}

function outcome(r: ParseResult): Expect | number | string {
  if (r.ok) return 'ok'
  if (r.error.incomplete) return 'incomplete'
  if (!r.error.respondable) return 'drop'
  return r.error.status ?? 'respondable without status'
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(bytes))
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

const hasContentLength = (bytes: Uint8Array): boolean => {
  const text = new TextDecoder().decode(bytes)
  const end = text.indexOf('\r\n\r\n')
  const head = end < 0 ? text : text.slice(0, end)
  return /\r\n(?:content-length|l)[ \t]*:/i.test(head)
}

describe('RFC 4475 torture messages', () => {
  it('the data directory resolves to shared/testdata/rfc4475 with 50 messages', () => {
    const path = fileURLToPath(DIR)
    expect(path.endsWith('/shared/testdata/rfc4475/')).toBe(true)
    expect(existsSync(fileURLToPath(new URL('manifest.tsv', DIR)))).toBe(true)
    expect(rows).toHaveLength(50)
    expect(Object.keys(DATAGRAM).sort()).toEqual(rows.map((r) => r.name).sort())
  })

  it('only inv2543 lacks Content-Length', () => {
    expect(rows.filter((r) => !hasContentLength(load(r.name))).map((r) => r.name)).toEqual([
      'inv2543',
    ])
  })

  describe.each(rows)('$name ($verdict, §$section)', (row) => {
    const bytes = load(row.name)

    it('has the bytes the manifest records', async () => {
      expect(bytes.length).toBe(row.bytes)
      expect(await sha256(bytes)).toBe(row.sha256)
    })

    it('as a datagram', () => {
      const expected = DATAGRAM[row.name]
      expect(expected === 'ok').toBe(row.verdict === 'valid')
      const r = parseSipMessage(bytes, { transport: 'datagram' })
      expect(outcome(r), r.ok ? '' : r.error.reason).toBe(expected)
      if (!r.ok && r.error.respondable) {
        // The error carries enough of the request to build the answer.
        const res = createResponse(r.error.request!, r.error.status!, r.error.reason)
        expect(res.headers.getAll('Via')).toEqual(r.error.request!.headers.getAll('Via'))
        expect(serializeSipMessage(res).length).toBeGreaterThan(0)
      }
    })

    it('as a stream', () => {
      const expected = STREAM[row.name]
      const r = parseSipMessage(bytes, { transport: 'stream' })
      expect(outcome(r), r.ok ? '' : r.error.reason).toBe(expected)
      if (r.ok) expect(r.consumed).toBeLessThanOrEqual(bytes.length)
      if (!hasContentLength(bytes)) expect(!r.ok && r.error.framing).toBe(true)
      if (row.name === 'clerr' && !r.ok) expect(r.error.needed).toBeGreaterThan(bytes.length)
    })
  })
})
