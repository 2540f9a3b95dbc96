/**
 * The Identity header field value (RFC 8224 §4):
 *
 *   Identity = "Identity" HCOLON signed-identity-digest SEMI ident-info
 *              *( SEMI ident-info-params )
 *   ident-info = "info" EQUAL LAQUOT absoluteURI RAQUOT
 *   ident-info-params = "alg" EQUAL token / "ppt" EQUAL token / generic-param
 *
 * Kaiwa writes `<PASSporT>;info=<kaiwa:key:<kid>>;alg=EdDSA;ppt=kaiwa`: the
 * info URI names the account key by its fingerprint instead of pointing at a
 * certificate (RFC 8224 §7 lets the info URI scheme define how credentials
 * are acquired; ours are in the DHT contact record of the From user).
 */
import { KaiwaError } from '../errors.js'
import { KID_RE, PASSPORT_ALG, PASSPORT_PPT } from './passport.js'

/** Longest Identity header field value examined; longer ones are refused unread. */
export const MAX_IDENTITY_FIELD_CHARS = 8 * 1024
/** URI scheme prefix of the `info` parameter. */
export const KEY_INFO_PREFIX = 'kaiwa:key:'

/** The Identity header field value does not follow RFC 8224 §4 or Kaiwa's profile of it. */
export class IdentityHeaderSyntaxError extends KaiwaError {
  constructor(message: string) {
    super(message, 'invalid_input')
    this.name = 'IdentityHeaderSyntaxError'
  }
}

export interface IdentityField {
  /** signed-identity-digest: the compact PASSporT. */
  token: string
  /** The account key fingerprint named by `info=<kaiwa:key:…>`. */
  kid: string
}

/** The Identity header field value for `token`, signed by the key with fingerprint `kid`. */
export function formatIdentityField(token: string, kid: string): string {
  return `${token};info=<${KEY_INFO_PREFIX}${kid}>;alg=${PASSPORT_ALG};ppt=${PASSPORT_PPT}`
}

// Sticky scanners (RFC 3261 §25.1 SWS, token, quoted-string; RFC 8224 base64-char).
const DIGEST = /[A-Za-z0-9+/_.-]+/y
const SWS = /[ \t]*/y
const TOKEN = /[A-Za-z0-9\-.!%*_+`'~]+/y
const GEN_VALUE = /[A-Za-z0-9\-.!%*_+`'~:[\]]+/y
const QUOTED = /"(?:[^"\\\r\n]|\\[^\r\n])*"/y
const ANGLE_URI = /<([^<>\s"]+)>/y

function scan(re: RegExp, s: string, i: number): string | undefined {
  re.lastIndex = i
  return re.exec(s)?.[0]
}

/**
 * Parse an Identity header field value and check Kaiwa's profile: `info` is
 * `<kaiwa:key:<kid>>`, `alg` is EdDSA and `ppt` is kaiwa (RFC 8224 §4: ppt
 * must match the PASSporT header; checked again when the header is compared).
 * Unknown parameters are ignored (ident-info-extension); repeated ones are
 * refused. Throws IdentityHeaderSyntaxError.
 */
export function parseIdentityField(value: string): IdentityField {
  if (value.length > MAX_IDENTITY_FIELD_CHARS) {
    throw new IdentityHeaderSyntaxError('Identity header field is too long')
  }
  const token = scan(DIGEST, value, 0)
  if (token === undefined) throw new IdentityHeaderSyntaxError('Identity has no signed digest')
  const params = new Map<string, string>()
  let i = token.length
  for (;;) {
    i += scan(SWS, value, i)!.length
    if (i === value.length) break
    if (value[i] !== ';') throw new IdentityHeaderSyntaxError(`unexpected character at ${i}`)
    i += 1
    i += scan(SWS, value, i)!.length
    const name = scan(TOKEN, value, i)
    if (name === undefined) throw new IdentityHeaderSyntaxError(`bad parameter name at ${i}`)
    i += name.length
    i += scan(SWS, value, i)!.length
    let v = ''
    if (value[i] === '=') {
      i += 1
      i += scan(SWS, value, i)!.length
      const raw = scan(ANGLE_URI, value, i) ?? scan(QUOTED, value, i) ?? scan(GEN_VALUE, value, i)
      if (raw === undefined) throw new IdentityHeaderSyntaxError(`bad value for ${name}`)
      i += raw.length
      v = raw
    }
    const key = name.toLowerCase()
    if (params.has(key)) throw new IdentityHeaderSyntaxError(`repeated parameter ${key}`)
    params.set(key, v)
  }
  const info = params.get('info')
  if (info === undefined) throw new IdentityHeaderSyntaxError('Identity has no info parameter')
  const m = /^<kaiwa:key:([^>]*)>$/.exec(info)
  if (m === null || !KID_RE.test(m[1]!)) {
    throw new IdentityHeaderSyntaxError('info must be <kaiwa:key:FINGERPRINT>')
  }
  if (params.get('alg') !== PASSPORT_ALG) {
    throw new IdentityHeaderSyntaxError(`alg must be ${PASSPORT_ALG}`)
  }
  if (params.get('ppt') !== PASSPORT_PPT) {
    throw new IdentityHeaderSyntaxError(`ppt must be ${PASSPORT_PPT}`)
  }
  return { token, kid: m[1]! }
}
