/**
 * Owns this node's role and the libp2p instance that serves it. A role change
 * rebuilds libp2p on the same keys and datastore (its services, DHT server
 * mode and relay server are fixed at construction). Kaiwa's protocols are
 * libp2p services of that instance, so stopping the old instance and starting
 * the new one is the whole change. Changes are serialised: a request that
 * arrives during a change waits for it.
 *
 * Who asks for a change: the user (`--supernode`, Settings: off/auto/on), and
 * in `auto` the election (load-driven promotion and step-down).
 */
import type { Role, SupernodeMode } from '../../shared/api/contract.js'
import type { Logger } from '../../shared/logger.js'
import type { KaiwaLibp2p } from './libp2p-factory.js'

export interface RoleControllerInit {
  mode: SupernodeMode
  initialRole: Role
  /** Build and start libp2p, with its services, for a role. */
  build: (role: Role) => Promise<KaiwaLibp2p>
  /** After a change: the new instance and its services are up. */
  onChanged: (node: KaiwaLibp2p, role: Role) => void
  log: Logger
}

export class RoleController {
  private current: KaiwaLibp2p | undefined
  private currentRole: Role
  private currentMode: SupernodeMode
  private since = Date.now()
  private chain: Promise<unknown> = Promise.resolve()
  private stopped = false

  constructor(private readonly init: RoleControllerInit) {
    this.currentRole = init.initialRole
    this.currentMode = init.mode
  }

  async start(): Promise<KaiwaLibp2p> {
    this.current = await this.init.build(this.currentRole)
    this.since = Date.now()
    return this.current
  }

  node(): KaiwaLibp2p {
    if (this.current == null) throw new Error('the node has not started')
    return this.current
  }

  role(): Role {
    return this.currentRole
  }

  mode(): SupernodeMode {
    return this.currentMode
  }

  /** When the current role was taken (the election's dwell time). */
  roleSince(): number {
    return this.since
  }

  /** The user's choice: `on` serves now, `off` stops serving now, `auto` lets the election decide. */
  async setMode(mode: SupernodeMode): Promise<void> {
    this.currentMode = mode
    if (mode === 'on') await this.change('supernode', 'supernode mode set to on')
    if (mode === 'off') await this.change('client', 'supernode mode set to off')
  }

  /** Take `role` (no-op if already held); resolves once the new instance serves. */
  change(role: Role, reason: string): Promise<void> {
    const next = this.chain.then(async () => {
      if (this.stopped || role === this.currentRole || this.current == null) return
      this.init.log.info(`${reason}: becoming a ${role}`)
      await this.current.stop()
      try {
        this.current = await this.init.build(role)
        this.currentRole = role
      } catch (err) {
        // The ports were ours a moment ago; if the rebuild fails, fall back to the old role.
        this.init.log.error(
          `could not start as ${role} (${String(err)}); staying a ${this.currentRole}`,
        )
        this.current = await this.init.build(this.currentRole)
      }
      this.since = Date.now()
      this.init.onChanged(this.current, this.currentRole)
    })
    this.chain = next.catch((err: unknown) =>
      this.init.log.error(`role change failed: ${String(err)}`),
    )
    return next
  }

  /** Waits for a change in progress, then stops the instance. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.chain
    await this.current?.stop()
  }
}
