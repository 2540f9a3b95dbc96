/**
 * The gateway's authentication policy (RFC 3261 §22), on top of the digest
 * mechanics in digest-auth.ts: REGISTER is challenged with 401 and
 * WWW-Authenticate (§22.2), every other request with 407 and
 * Proxy-Authenticate (§22.3); the caller never passes ACK or CANCEL here
 * (§22.1: they cannot be resubmitted). Before a user ID is claimed there is
 * nobody to authenticate as: 403. A REGISTER for another user (its To or
 * From, or the digest username) is refused with 403 naming the one user this
 * gateway registers (§10.3 step 3: the registrar decides whom it serves), not
 * challenged: no password would help. Wrong credentials are challenged again,
 * until `maxFailures` from one source within `windowMs`, which then get 403
 * until the window passes. Credentials for our realm are removed before the
 * request is forwarded (§22.3).
 */
import type { Logger } from '../../../shared/logger.js'
import type { SipRequest, SipResponse } from '../../../shared/sip/sip-message.js'
import { respond } from '../../../shared/sip/responses.js'
import { DigestAuthenticator, parseDigestCredentials } from './digest-auth.js'
import type { DigestAlgorithm } from './digest-auth.js'
import type { GatewayFlow } from './gateway-types.js'
import { LogThrottle } from './rate-limiter.js'
import { extractUri } from '../local-registrar.js'

export interface GatewayAuthInit {
  realm: string
  password: string
  username: () => Promise<string | null>
  nonceTtlMs: number
  algorithms: readonly DigestAlgorithm[]
  /** The nonce key kept across restarts (nonce-key.ts); random per process without it. */
  secret?: Uint8Array
  maxFailures: number
  windowMs: number
  log: Logger
  now?: () => number
}

/** Sources remembered at most (a flood of fresh ports cannot grow the map without bound). */
const MAX_TRACKED = 10_000

export class GatewayAuth {
  private readonly digest: DigestAuthenticator
  private readonly failures = new Map<string, { count: number; since: number }>()
  private readonly now: () => number
  private readonly failLog: LogThrottle

  constructor(private readonly init: GatewayAuthInit) {
    this.now = init.now ?? Date.now
    this.failLog = new LogThrottle((m) => init.log.info(m))
    this.digest = new DigestAuthenticator({
      realm: init.realm,
      nonceTtlMs: init.nonceTtlMs,
      algorithms: init.algorithms,
      ...(init.secret != null ? { secret: init.secret } : {}),
      now: this.now,
    })
  }

  /** Undefined when `req` may pass (its credentials removed); else the 401/407/403 to send. */
  async check(req: SipRequest, flow: GatewayFlow): Promise<SipResponse | undefined> {
    const name = await this.init.username()
    if (name == null) return respond(req, 403, 'Claim a user ID first (kaiwa claim NAME)')
    const now = this.now()
    const f = this.failures.get(flow.key)
    const failed = f != null && now - f.since < this.init.windowMs ? f.count : 0
    if (failed >= this.init.maxFailures) return respond(req, 403, 'Too many failed authentications')
    const register = req.method === 'REGISTER'
    const header = register ? 'authorization' : 'proxy-authorization'
    if (register) {
      const foreign = foreignUser(req, header, this.init.realm, name)
      if (foreign != null) {
        this.failLog.log(
          `REGISTER from ${flow.key} for ${JSON.stringify(foreign.slice(0, 64))} refused`,
        )
        return respond(req, 403, `This gateway registers only sip:${name}@${this.init.realm}`)
      }
    }
    const v = this.digest.verify(req.method, req.headers.getAll(header), name, this.init.password)
    if (v.kind === 'ok') {
      this.failures.delete(flow.key)
      this.removeOwnCredentials(req, header)
      return undefined
    }
    if (v.kind === 'bad') {
      if (this.failures.size >= MAX_TRACKED) this.failures.clear()
      this.failures.set(flow.key, { count: failed + 1, since: failed === 0 ? now : f!.since })
      this.failLog.log(`authentication of ${req.method} from ${flow.key} failed: ${v.why}`)
      if (failed + 1 >= this.init.maxFailures)
        return respond(req, 403, 'Too many failed authentications')
    }
    const challenges = this.digest.challenge(v.kind === 'stale')
    return register
      ? respond(
          req,
          401,
          'Unauthorized',
          challenges.map((c) => ['WWW-Authenticate', c]),
        )
      : respond(
          req,
          407,
          'Proxy Authentication Required',
          challenges.map((c) => ['Proxy-Authenticate', c]),
        )
  }

  /** §22.3: credentials this element consumed do not travel on (into the overlay). */
  private removeOwnCredentials(req: SipRequest, header: string): void {
    const all = req.headers.getAll(header)
    const keep = all.filter((v) => parseDigestCredentials(v)?.get('realm') !== this.init.realm)
    if (keep.length === all.length) return
    req.headers.remove(header)
    for (const v of keep) req.headers.add(header, v)
  }
}

/**
 * The user a REGISTER is for when it is not `name`: the user part of To or
 * From (RFC 3261 §10.2: To is the address of record, From the one
 * registering), or the digest username of credentials for our realm.
 */
function foreignUser(
  req: SipRequest,
  header: string,
  realm: string,
  name: string,
): string | undefined {
  for (const h of ['to', 'from']) {
    const uri = extractUri(req.headers.get(h) ?? '')
    const user = /^sips?:([^@;?]+)@/i.exec(uri)?.[1]
    if (user != null && decodeUser(user) !== name) return decodeUser(user)
  }
  for (const v of req.headers.getAll(header)) {
    const c = parseDigestCredentials(v)
    const user = c?.get('realm') === realm ? c.get('username') : undefined
    if (user != null && user !== name) return user
  }
  return undefined
}

/** RFC 3261 §19.1.2: the user part may be %-escaped. */
function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user)
  } catch {
    return user
  }
}
