/**
 * The router's second look (issue 13): when every device of a looked-up
 * record failed to link, the record may be stale (a device's relay supernode
 * died and its republished record has not reached the cache), so the router
 * resolves the user once more past every cache before answering 480. These
 * are the contract for that look and the check that it found something new.
 */
import type { Resolution, ResolvedDevice, SipRouterInit } from './sip-router-types.js'

/** The router's contract plus the second look after a failed fork. */
export interface SipRouterOptions extends SipRouterInit {
  /**
   * Resolve `user` again past every cache (the implementation invalidates its
   * cached record first). Called at most once per request, when every device
   * of the first answer failed to link. Without it the router answers 480 at
   * once.
   */
  resolveFresh?: (user: string) => Promise<Resolution>
}

/** Same peers with the same addresses: a fresh record that changes nothing is not tried again. */
export function sameDevices(a: ResolvedDevice[], b: ResolvedDevice[]): boolean {
  return signature(a) === signature(b)
}

function signature(devices: ResolvedDevice[]): string {
  return devices
    .map(
      (d) =>
        `${d.peer} ${d.addrs
          .map((x) => x.toString())
          .sort()
          .join(' ')}`,
    )
    .sort()
    .join('\n')
}
