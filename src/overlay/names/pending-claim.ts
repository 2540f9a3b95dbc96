/**
 * The claim of `kaiwa node --name NAME` at start-up, when the name cannot be
 * stored anywhere yet: on a LAN with no supernode (issue 13) mDNS has found
 * nobody when the node starts, and a client whose supernodes are not up yet
 * has no DHT server to ask. Instead of failing the start, the name is kept
 * pending, said in the log, and claimed as soon as names have somewhere to
 * go (lan-scope.ts: a supernode or a DHT server, or a LAN peer after the
 * grace period), the same claim `kaiwa claim` runs.
 *
 *   start(name) ── claim ──▶ claimed
 *        │  no_peers / timeout (nowhere to store it yet)
 *        ▼
 *     pending ── scope settled, every pollMs, at most every retryMs ── claim ──▶ claimed
 *        │  taken, refused; or another name claimed meanwhile
 *        ▼
 *     given up (logged)
 *
 * Any other error of the first claim (a name taken, an invalid name, a
 * refusal) still fails the start, as before: only "nobody to store it yet"
 * waits.
 */
import { NoOverlayPeersError, OverlayTimeoutError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import type { ScopeView } from './lan-scope.js'
import type { PublishResult } from './lookup-types.js'

export interface PendingClaimComponents {
  /** The node's claim (KaiwaNode.claim: the directory's claim, saved in the settings). */
  claim: (name: string) => Promise<PublishResult>
  /** Where names go now (UserDirectory.scope). */
  scope: () => ScopeView
  /**
   * The name this node holds now (the settings'). A pending name is dropped
   * when it changes meanwhile: the user claimed another one (`kaiwa claim`).
   */
  claimedName?: () => Promise<string | null>
  log: Logger
  /** How often a pending name checks whether it can be stored. @default 1000 */
  pollMs?: number
  /** The least time between two attempts. @default 5000 */
  retryMs?: number
}

/** True for the errors that mean "nowhere to store the name yet", not "no". */
export function nowhereYet(err: unknown): boolean {
  return err instanceof NoOverlayPeersError || err instanceof OverlayTimeoutError
}

export class PendingClaim {
  private name: string | undefined
  /** claimedName() when the name went pending. */
  private heldBefore: string | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private lastTry = 0
  private busy = false
  private stopped = false

  constructor(private readonly c: PendingClaimComponents) {}

  /** The name waiting to be claimed, if any. */
  get pending(): string | undefined {
    return this.name
  }

  /**
   * Claim `name` now. With nowhere to store it yet, keep it pending and
   * resolve 'pending'; any other failure rejects as the claim does.
   */
  async start(name: string): Promise<'claimed' | 'pending'> {
    try {
      await this.c.claim(name)
      return 'claimed'
    } catch (err) {
      if (!nowhereYet(err) || this.stopped) throw err
      this.name = name
      this.heldBefore = (await this.c.claimedName?.()) ?? null
      this.lastTry = Date.now()
      this.c.log.warn(
        `"${name}" is not claimed yet: ${(err as Error).message}. It stays pending and is ` +
          'claimed as soon as a supernode or a LAN peer can store it',
      )
      this.arm()
      return 'pending'
    }
  }

  stop(): void {
    this.stopped = true
    this.name = undefined
    if (this.timer != null) clearTimeout(this.timer)
    this.timer = undefined
  }

  private arm(): void {
    if (this.stopped || this.name == null) return
    this.timer = setTimeout(() => void this.tick(), this.c.pollMs ?? 1000)
    this.timer.unref?.()
  }

  private async tick(): Promise<void> {
    const name = this.name
    if (this.stopped || name == null || this.busy) return
    const since = Date.now() - this.lastTry
    if (!this.c.scope().settled || since < (this.c.retryMs ?? 5000)) return this.arm()
    this.busy = true
    this.lastTry = Date.now()
    try {
      const held = (await this.c.claimedName?.()) ?? null
      if (held !== this.heldBefore) {
        this.c.log.info(`dropping the pending name "${name}": "${held}" was claimed meanwhile`)
        this.name = undefined
        return
      }
      const { stored } = await this.c.claim(name)
      if (this.stopped) return
      const where = this.c.scope().scope === 'lan' ? 'LAN' : 'overlay'
      this.c.log.info(`claimed the pending name "${name}" (${where}, held by ${stored})`)
      this.name = undefined
    } catch (err) {
      if (this.stopped) return
      if (nowhereYet(err)) {
        this.c.log.debug(`"${name}" is still pending: ${(err as Error).message}`)
      } else {
        this.c.log.error(`cannot claim the pending name "${name}": ${String(err)}`)
        this.name = undefined
      }
    } finally {
      this.busy = false
      this.arm()
    }
  }
}
