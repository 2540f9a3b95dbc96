/**
 * The router's second look (issue 13): when every device of a looked-up
 * record failed to link, the record may be stale (a device's relay supernode
 * died and its republished record has not reached the cache), so the router
 * resolves the user once more past every cache before answering 480
 * (`SipRouterInit.resolveFresh`). This is the check that it found something new.
 */
import type { ResolvedDevice } from './sip-router-types.js'

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
