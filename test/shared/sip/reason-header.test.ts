/** RFC 3326 Reason headers: read from failed calls, written on 488. */
import { describe, expect, it } from 'vitest'
import {
  REASON_TEXT_MAX,
  ReasonHeaderError,
  formatReason,
  parseReasons,
  reasonFor,
} from '../../../src/shared/sip/reason-header.js'

describe('Reason header', () => {
  it('parses the RFC 3326 §2 examples, several values and several headers', () => {
    expect(parseReasons(['SIP ;cause=200 ;text="Call completed elsewhere"'])).toEqual([
      { protocol: 'SIP', cause: 200, text: 'Call completed elsewhere' },
    ])
    expect(
      parseReasons(['Q.850 ;cause=16 ;text="Terminated", SIP;cause=488;text="no codec"', 'SIP']),
    ).toEqual([
      { protocol: 'Q.850', cause: 16, text: 'Terminated' },
      { protocol: 'SIP', cause: 488, text: 'no codec' },
      { protocol: 'SIP', cause: undefined, text: undefined },
    ])
  })

  it('keeps commas and semicolons inside the quoted text, and unescapes it', () => {
    expect(parseReasons(['SIP ;cause=488 ;text="offers G.729; PCMU, no \\"opus\\""'])).toEqual([
      { protocol: 'SIP', cause: 488, text: 'offers G.729; PCMU, no "opus"' },
    ])
  })

  it('skips what does not parse, and never passes control characters or long text on', () => {
    expect(parseReasons(['"quoted" ;cause=1', ''])).toEqual([])
    expect(parseReasons(['SIP ;cause=abc ;text=unquoted'])).toEqual([
      { protocol: 'SIP', cause: undefined, text: undefined },
    ])
    const [r] = parseReasons([`SIP ;cause=488 ;text="a\u0007b ${'x'.repeat(500)}"`])
    expect(r!.text!.length).toBe(REASON_TEXT_MAX)
    expect(r!.text).toMatch(/^a b x+…$/)
  })

  it('picks the SIP reason that matches the status', () => {
    const all = parseReasons(['Q.850;cause=16, SIP;cause=487, SIP;cause=488;text="t"'])
    expect(reasonFor(all, 488)?.text).toBe('t')
    expect(reasonFor(all, 500)?.cause).toBe(487)
    expect(reasonFor(parseReasons(['Q.850;cause=16']), 488)?.protocol).toBe('Q.850')
    expect(reasonFor([], 488)).toBeUndefined()
  })

  it('formats a value that parses back to the same reason', () => {
    const v = formatReason(488, 'no "common" codec\\ here')
    expect(v).toBe('SIP ;cause=488 ;text="no \\"common\\" codec\\\\ here"')
    expect(parseReasons([v])).toEqual([
      { protocol: 'SIP', cause: 488, text: 'no "common" codec\\ here' },
    ])
    expect(() => formatReason(-1, 'x')).toThrow(ReasonHeaderError)
    expect(() => formatReason(488, 'x', 'not a token')).toThrow(ReasonHeaderError)
  })
})
