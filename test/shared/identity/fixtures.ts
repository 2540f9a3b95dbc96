/**
 * Requests and keys for the identity tests: fixed values (no random tags), so
 * tokens are reproducible.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { Ed25519PrivateKey } from '@libp2p/interface'
import { fromString } from 'uint8arrays'
import { SipHeaders } from '../../../src/shared/sip/sip-message.js'
import type { SipRequest } from '../../../src/shared/sip/sip-message.js'

/** 1 700 000 000 000 ms = Tue, 14 Nov 2023 22:13:20 GMT. */
export const NOW = 1_700_000_000_000
export const NOW_DATE = 'Tue, 14 Nov 2023 22:13:20 GMT'

/** RFC 8032 §7.1 TEST 1 secret key: a well-known, reproducible ed25519 key. */
export const ALICE_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'
export const BOB_SEED = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb'

export async function keyFromSeed(hex: string): Promise<Ed25519PrivateKey> {
  return generateKeyPairFromSeed('Ed25519', fromString(hex, 'base16'))
}

export const FP_A =
  'sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:3E:4B:65:0F:A2:CA:30:8E:1B:9C:F2:BD'
export const FP_B =
  'sha-256 C5:64:2F:0B:6D:F6:59:6E:7C:5E:39:A0:B2:2C:49:7A:1D:8E:6F:31:04:AA:52:9C:DB:73:11:E2:8D:4F:10:63'

export function sdp(fingerprints: string[] = [FP_A]): string {
  return [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0',
    ...fingerprints.map((f) => `a=fingerprint:${f}`),
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    'a=setup:actpass',
    'a=mid:0',
    'a=rtpmap:111 opus/48000/2',
    '',
  ].join('\r\n')
}

export interface RequestInit {
  method?: string
  from?: string
  to?: string
  callId?: string
  cseq?: string
  date?: string | null
  contentType?: string
  body?: string
}

/** An overlay request from alice to bob; `date: null` leaves Date out. */
export function request(init: RequestInit = {}): SipRequest {
  const method = init.method ?? 'INVITE'
  const headers = new SipHeaders([
    ['Via', 'SIP/2.0/TCP ua.invalid;branch=z9hG4bK776asdhds'],
    ['Max-Forwards', '70'],
    ['From', init.from ?? '"Alice" <sip:alice@kaiwa>;tag=1928301774'],
    ['To', init.to ?? '<sip:bob@kaiwa>'],
    ['Call-ID', init.callId ?? 'a84b4c76e66710@ua.invalid'],
    ['CSeq', init.cseq ?? `314159 ${method}`],
  ])
  if (init.date !== null) headers.add('Date', init.date ?? NOW_DATE)
  const body = init.body ?? (method === 'INVITE' ? sdp() : '')
  if (body !== '') headers.add('Content-Type', init.contentType ?? 'application/sdp')
  return {
    kind: 'request',
    method,
    uri: 'sip:bob@kaiwa',
    version: 'SIP/2.0',
    headers,
    body: new TextEncoder().encode(body),
  }
}

/** A copy of `req` whose header `name` is set to `value`. */
export function withHeader(req: SipRequest, name: string, value: string): SipRequest {
  return { ...req, headers: req.headers.clone().set(name, value) }
}

export function withBody(req: SipRequest, body: string): SipRequest {
  return { ...req, headers: req.headers.clone(), body: new TextEncoder().encode(body) }
}
