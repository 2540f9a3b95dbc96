/**
 * The RFC 5769 STUN test vectors, as ../shared/testdata/rfc5769 holds them (the four messages as
 * .bin and their decoded fields in expected.json), for the STUN codec tests
 * (stun-message-rfc5769.test.ts, stun-message-codec.test.ts).
 */
import { readFileSync } from 'node:fs'

/** The test data directory, beside the checkout (CI clones the repository next to ../shared). */
export const dir = new URL('../../../../shared/testdata/rfc5769/', import.meta.url)

export interface ExpectedAttr {
  type: string
  name: string
  offset: number
  length: number
  value_hex: string
  padding_hex: string
  value?: string | number
  family?: string
  address?: string
  port?: number
}
export interface Expected {
  message_type: string
  class: string
  length: number
  transaction_id: string
  attributes: ExpectedAttr[]
  credentials: Record<string, string>
  fingerprint_verified: boolean | null
  size: number
}
export const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as Record<
  string,
  Expected
>
/** The vectors' names: sample_request, sample_ipv4_response, sample_ipv6_response, ... */
export const NAMES = Object.keys(expected)
export const bin = (name: string) => new Uint8Array(readFileSync(new URL(`${name}.bin`, dir)))
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
/** RFC 5769 §2's short-term password (2.1-2.3). */
export const SHORT_TERM_PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt'
