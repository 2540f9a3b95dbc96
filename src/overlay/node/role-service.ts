/**
 * A libp2p service for one role's share of a long-lived object. Objects that
 * outlive role changes (the TURN relay's secret and caps, the election's
 * memory of loads) serve only while a particular libp2p instance runs: this
 * adapter lets libp2p start and stop that share with the instance, as it does
 * its own services, so no role change is wired by hand.
 */
import type { Startable } from '@libp2p/interface'

export interface RoleBound<Components> {
  /** The instance started: register handlers, open ports. */
  serve(components: Components): Promise<void> | void
  /** The instance stops: release what `serve` took. */
  unserve(): Promise<void> | void
}

export function roleService<Components>(
  name: string,
  bound: RoleBound<Components>,
): (components: Components) => Startable {
  return (components) => ({
    [Symbol.toStringTag]: `@kaiwa/${name}`,
    start: async () => {
      await bound.serve(components)
    },
    stop: async () => {
      await bound.unserve()
    },
  })
}
