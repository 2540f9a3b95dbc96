/**
 * Roaming in the lab: a host leaves its site and joins another one, the way
 * a laptop leaves the office Wi-Fi for a phone's tethering (issue 13 §8).
 * Its cable to the old site's LAN is pulled (the veth pair is deleted, so its
 * address and default route vanish with it), then a new veth joins the new
 * site's LAN bridge with a fresh address there and a default route through
 * that site's router. The namespace stays: the `kaiwa node` and the Chromium
 * running in it keep running, and see only their interfaces change.
 */
import { ip } from './exec.js'
import type { Lab, LabHost, LabSite } from './lab.js'

export interface MoveOptions {
  /** Time with no network at all between the two, as when Wi-Fi drops before tethering is up. @default 0 */
  gapMs?: number
}

export interface HostMove {
  from: string
  to: string
  /** When the old link was deleted and the new one was up (performance.now()). */
  downAt: number
  upAt: number
}

/** The site whose LAN `host` is on now, by its address. */
export function siteOf(lab: Lab, host: LabHost): LabSite | undefined {
  return lab.sites.find((s) => s.hosts.includes(host))
}

/** A name for the router's end of the new veth that no earlier move used (`m0`, `m1`, …). */
function freeRouterIf(router: string): string {
  const names = new Set(
    ip('-n', router, '-o', 'link', 'show')
      .split('\n')
      .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
      .filter((n): n is string => n != null),
  )
  for (let i = 0; ; i++) if (!names.has(`m${i}`)) return `m${i}`
}

/** The next free host address on `site`'s LAN (.10, .11, … as the lab numbers them). */
function freeAddr(site: LabSite): string {
  const prefix = site.gateway.replace(/\.1$/, '')
  const used = new Set(site.hosts.map((h) => h.addr))
  for (let n = 10; n < 250; n++) if (!used.has(`${prefix}.${n}`)) return `${prefix}.${n}`
  throw new Error(`no free address on site ${site.index}'s LAN`)
}

/**
 * Move `host` to `to`: its `addr` becomes the new LAN address (the same
 * LabHost object, so a LabNode holding it sees the change), and it is listed
 * among `to`'s hosts instead of its old site's.
 */
export async function moveHost(
  lab: Lab,
  host: LabHost,
  to: LabSite,
  opts: MoveOptions = {},
): Promise<HostMove> {
  const from = siteOf(lab, host)
  if (from === to) throw new Error(`${host.name} is on site ${to.index} already`)
  const oldAddr = host.addr
  const addr = freeAddr(to)
  // Pulling the cable: deleting the host's end deletes the router's end too.
  ip('-n', host.ns, 'link', 'del', 'eth0')
  const downAt = performance.now()
  if (from != null) from.hosts.splice(from.hosts.indexOf(host), 1)
  if ((opts.gapMs ?? 0) > 0) await new Promise((r) => setTimeout(r, opts.gapMs))

  const routerIf = freeRouterIf(to.router)
  ip(
    'link',
    'add',
    routerIf,
    'netns',
    to.router,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    host.ns,
  )
  ip('-n', to.router, 'link', 'set', routerIf, 'master', 'lan')
  ip('-n', to.router, 'link', 'set', routerIf, 'up')
  ip('-n', host.ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
  ip('-n', host.ns, 'link', 'set', 'eth0', 'up')
  ip('-n', host.ns, 'route', 'add', 'default', 'via', to.gateway)
  const upAt = performance.now()
  host.addr = addr
  to.hosts.push(host)
  return { from: oldAddr, to: addr, downAt, upAt }
}
