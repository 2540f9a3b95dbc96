/**
 * The NAT lab: an "internet" made of network namespaces, veth pairs and
 * nftables, that exists only inside the lab (no route leads out of it).
 *
 *            public hosts 203.0.113.2, .3, ... (the supernode's host, probe servers)
 *                         │ (one veth each, /32 routes)
 *   ┌────────────── core 203.0.113.1 (a router: the internet) ───────────────┐
 *   │ site 0 WAN 203.0.113.11                          site 1 WAN 203.0.113.12
 *   router s0r (NAT mode)                            router s1r (NAT mode)
 *   LAN 192.168.1.0/24 (bridge)                      LAN 192.168.2.0/24
 *   hosts 192.168.1.10, .11, ...                     hosts 192.168.2.10, ...
 *
 * A site with NAT `none` is routed, not translated: its LAN is public
 * (198.18.<i+1>.0/24, the RFC 2544 benchmarking range) and the core routes it.
 * A site with a `carrier` NAT is double NAT: the home router's WAN is
 * 100.64.<i+1>.2 on the carrier's network (RFC 6598 shared address space), and
 * the carrier router (s<i>c) holds the public address. The core has no route
 * for private ranges, so a packet to another site's private address gets an
 * ICMP unreachable, as a real ISP would drop it.
 *
 * IPv6 (lab-ipv6.ts, with `ipv6` or any `ipv6Only` site): the core (2001:db8::1) and the public
 * hosts (2001:db8::2, …) are dual-stack, and an IPv6-only site is a routed /64 of 2001:db8::/32
 * behind a firewalled router, with no IPv4 address on its hosts. The IPv4 lab is unchanged.
 *
 * Every namespace is named `<tag>…` with a tag unique to this process and lab;
 * `destroy` (also run on process exit, SIGINT and SIGTERM) kills the processes
 * the lab started and anything else still running inside its namespaces (a
 * browser launched there), and deletes only the namespaces (and temp dirs) it
 * created.
 * Should this process die without running it (SIGKILL, a test runner killing
 * its worker), a detached reaper (reaper.mjs) that was told every namespace
 * and dir does the same.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { IP, inNs, ip, labPrefix, shIn, veth } from './exec.js'
import { applyNat, configureRouter } from './nat-modes.js'
import { buildIpv6Site, forwardIpv6, pointToPoint6, publicHostAddr6 } from './lab-ipv6.js'
import { parseConntrackLine } from './conntrack.js'
import type { ConntrackEntry } from './conntrack.js'

export type { Lab, LabHost, LabSite, LabSpec, SiteSpec } from './lab-types.js'
import type { Lab, LabHost, LabSite, LabSpec, SiteSpec } from './lab-types.js'

export const CORE_ADDR = '203.0.113.1'
export const publicHostAddr = (p: number): string => `203.0.113.${2 + p}`
export const siteWanAddr = (i: number): string => `203.0.113.${11 + i}`
const carrierNet = (i: number): string => `100.64.${i + 1}`
const lanNet = (i: number, spec: SiteSpec): string =>
  spec.nat === 'none' && spec.carrier == null ? `198.18.${i + 1}` : `192.168.${i + 1}`

const REAPER = fileURLToPath(new URL('./reaper.mjs', import.meta.url))
const live = new Set<LabImpl>()
let handlersInstalled = false

/** Build a lab. Throws (after removing what it built) if any step fails. */
export function createLab(spec: LabSpec): Lab {
  installHandlers()
  const lab = new LabImpl(spec)
  live.add(lab)
  try {
    lab.build()
  } catch (err) {
    lab.destroySync()
    throw err
  }
  return lab
}

class LabImpl implements Lab {
  readonly tag: string
  readonly core: string
  readonly publicHosts: LabHost[] = []
  readonly sites: LabSite[] = []
  readonly namespaces: string[] = []
  readonly udpTimeoutS: number
  private readonly spec: LabSpec
  private readonly children = new Set<ChildProcess>()
  private readonly cleanups: Array<() => void> = []
  private readonly reaper: ChildProcess
  private destroyed = false

  constructor(spec: LabSpec) {
    this.spec = spec
    this.udpTimeoutS = spec.udpTimeoutS ?? 30
    // Short (interface names are not involved, but `ip netns list` stays readable)
    // and unique per process and lab. NATLAB_PREFIX (default `knl`) keeps the labs of
    // engineers sharing one machine apart in `ip netns list`.
    this.tag = `${labPrefix()}${process.pid.toString(36)}${randomBytes(2).toString('hex')}`
    this.core = `${this.tag}-core`
    this.reaper = spawn(process.execPath, [REAPER], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    // Neither the reaper nor its pipe may keep this process alive.
    this.reaper.unref()
    ;(this.reaper.stdin as unknown as { unref?: () => void }).unref?.()
  }

  private tell(msg: Record<string, unknown>): void {
    this.reaper.stdin?.write(JSON.stringify(msg) + '\n')
  }

  build(): void {
    const core = this.addNs(this.core)
    shIn(core, routerSysctls)
    const ipv6 = this.spec.ipv6 ?? this.spec.sites.some((s) => s.ipv6Only === true)
    if (ipv6) forwardIpv6(core)

    for (let p = 0; p < (this.spec.publicHosts ?? 1); p++) {
      const ns = this.addNs(`${this.tag}-pub${p}`)
      const addr = publicHostAddr(p)
      this.pointToPoint(core, `p${p}`, ns, 'eth0', addr)
      if (!ipv6) {
        this.publicHosts.push({ name: `pub${p}`, ns, addr })
        continue
      }
      const addr6 = publicHostAddr6(p)
      pointToPoint6(core, `p${p}`, ns, 'eth0', addr6)
      this.publicHosts.push({ name: `pub${p}`, ns, addr, addr6 })
    }

    this.spec.sites.forEach((site, i) => {
      if (site.ipv6Only === true) this.sites.push(buildIpv6Site(this, i, site))
      else this.buildSite(i, site)
    })
  }

  /** A veth from the core to `ns` carrying `addr`/32, the core answering as 203.0.113.1. */
  private pointToPoint(core: string, coreIf: string, ns: string, nsIf: string, addr: string): void {
    ip('link', 'add', coreIf, 'netns', core, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns)
    ip('-n', core, 'addr', 'add', `${CORE_ADDR}/32`, 'dev', coreIf)
    ip('-n', core, 'link', 'set', coreIf, 'up')
    ip('-n', core, 'route', 'add', `${addr}/32`, 'dev', coreIf)
    ip('-n', ns, 'addr', 'add', `${addr}/32`, 'dev', nsIf)
    ip('-n', ns, 'link', 'set', nsIf, 'up')
    ip('-n', ns, 'route', 'add', `${CORE_ADDR}/32`, 'dev', nsIf)
    ip('-n', ns, 'route', 'add', 'default', 'via', CORE_ADDR, 'dev', nsIf)
  }

  private buildSite(i: number, spec: SiteSpec): void {
    const core = this.core
    const wanAddr = siteWanAddr(i)
    const lan = lanNet(i, spec)
    const router = this.addNs(`${this.tag}-s${i}r`)
    let carrierRouter: string | null = null

    if (spec.carrier == null) {
      this.pointToPoint(core, `s${i}`, router, 'wan', wanAddr)
    } else {
      // Double NAT: core ── carrier (public WAN) ── 100.64.<i+1>.0/24 ── home router.
      carrierRouter = this.addNs(`${this.tag}-s${i}c`)
      this.pointToPoint(core, `s${i}`, carrierRouter, 'wan', wanAddr)
      veth(carrierRouter, 'cpe', router, 'wan')
      ip('-n', carrierRouter, 'addr', 'add', `${carrierNet(i)}.1/24`, 'dev', 'cpe')
      ip('-n', router, 'addr', 'add', `${carrierNet(i)}.2/24`, 'dev', 'wan')
      ip('-n', router, 'route', 'add', 'default', 'via', `${carrierNet(i)}.1`)
      // Only matters when the home router does not translate.
      ip('-n', carrierRouter, 'route', 'add', `${lan}.0/24`, 'via', `${carrierNet(i)}.2`)
      applyNat(carrierRouter, spec.carrier, 'wan', this.udpTimeoutS)
      configureRouter(carrierRouter, { udpTimeoutS: this.udpTimeoutS })
    }
    if (spec.nat === 'none' && spec.carrier == null) {
      ip('-n', core, 'route', 'add', `${lan}.0/24`, 'via', wanAddr)
    }

    // The LAN: a bridge in the router, one veth per host.
    ip('-n', router, 'link', 'add', 'lan', 'type', 'bridge')
    ip('-n', router, 'addr', 'add', `${lan}.1/24`, 'dev', 'lan')
    ip('-n', router, 'link', 'set', 'lan', 'up')
    const hosts: LabHost[] = []
    for (let j = 0; j < (spec.hosts ?? 1); j++) {
      const ns = this.addNs(`${this.tag}-s${i}h${j}`)
      const addr = `${lan}.${10 + j}`
      veth(router, `h${j}`, ns, 'eth0')
      ip('-n', router, 'link', 'set', `h${j}`, 'master', 'lan')
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
      ip('-n', ns, 'route', 'add', 'default', 'via', `${lan}.1`)
      hosts.push({ name: `s${i}h${j}`, ns, addr })
    }
    applyNat(router, spec.nat, 'wan', this.udpTimeoutS, spec.firewall ?? true)
    configureRouter(router, { udpTimeoutS: this.udpTimeoutS })

    this.sites.push({
      index: i,
      nat: spec.nat,
      carrier: spec.carrier ?? null,
      router,
      carrierRouter,
      publicAddr: spec.nat === 'none' && spec.carrier == null ? hosts[0]!.addr : wanAddr,
      gateway: `${lan}.1`,
      hosts,
    })
  }

  addNs(name: string): string {
    this.tell({ ns: name })
    ip('netns', 'add', name)
    this.namespaces.push(name)
    ip('-n', name, 'link', 'set', 'lo', 'up')
    return name
  }

  exec(ns: string, cmd: string, args: string[], input?: string): string {
    return inNs(ns, cmd, args, input)
  }

  spawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.destroyed) throw new Error('the lab is destroyed')
    // `ip netns exec` execs the command, so the child's pid is the command's own.
    const child = spawn(IP, ['netns', 'exec', ns, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
    })
    this.children.add(child)
    child.once('exit', () => this.children.delete(child))
    return child
  }

  conntrack(ns: string): ConntrackEntry[] {
    let text: string
    try {
      text = inNs(ns, 'cat', ['/proc/net/nf_conntrack'])
    } catch {
      return []
    }
    return text
      .split('\n')
      .map(parseConntrackLine)
      .filter((e): e is ConntrackEntry => e != null)
  }

  onDestroy(fn: () => void): void {
    this.cleanups.push(fn)
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    this.tell({ dir })
    this.cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return
    const children = [...this.children]
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode != null || c.signalCode != null) return resolve()
            const t = setTimeout(() => c.kill('SIGKILL'), 3_000)
            c.once('exit', () => {
              clearTimeout(t)
              resolve()
            })
            c.kill('SIGTERM')
          }),
      ),
    )
    this.destroySync()
  }

  /** Kill what is left and delete the namespaces; safe to call twice, and from 'exit'. */
  destroySync(): void {
    this.destroyed = true
    for (const c of this.children) {
      if (c.exitCode == null && c.signalCode == null) c.kill('SIGKILL')
    }
    // Whatever else runs in the lab's namespaces and was not started by `spawn`
    // (Chromium, launched by playwright through `ip netns exec`, and its helpers):
    // the reaper's way, every pid `ip netns pids` lists.
    for (const ns of this.namespaces) {
      let pids: string[] = []
      try {
        pids = ip('netns', 'pids', ns).split(/\s+/).filter(Boolean)
      } catch {
        // gone already
      }
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL')
        } catch {
          // exited meanwhile
        }
      }
    }
    for (const ns of [...this.namespaces].reverse()) {
      try {
        ip('netns', 'del', ns)
      } catch {
        // already gone
      }
    }
    this.namespaces.length = 0
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn()
      } catch {
        // best effort: teardown goes on
      }
    }
    this.tell({ done: true })
    this.reaper.stdin?.end()
    live.delete(this)
  }
}

const routerSysctls = [
  'echo 1 > /proc/sys/net/ipv4/ip_forward',
  'echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter',
  'echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects',
].join('\n')

/**
 * Tear every live lab down when the process ends, however it ends: normal exit,
 * Ctrl-C, SIGTERM (vitest stopping a worker), an uncaught error. The signal is
 * re-raised afterwards so the process still dies the way it was asked to.
 */
function installHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', destroyAllSync)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      destroyAllSync()
      process.removeListener(sig, onSignal)
      process.kill(process.pid, sig)
    }
    process.on(sig, onSignal)
  }
}

export function destroyAllSync(): void {
  for (const lab of [...live]) lab.destroySync()
}
