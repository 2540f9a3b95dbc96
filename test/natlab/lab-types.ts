/** The NAT lab's shapes (lab.ts builds them; lab-ipv6.ts and the tests read them). */
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import type { ConntrackEntry } from './conntrack.js'
import type { NatMode } from './nat-modes.js'

export interface SiteSpec {
  /** NAT on the site's (home) router. */
  nat: NatMode
  /** Hosts on the site's LAN (default 1). Two hosts behind one NAT: the same-NAT case. */
  hosts?: number
  /** A carrier-grade NAT in front of the home router (double NAT), with this mode. */
  carrier?: NatMode
  /**
   * The home router's WAN firewall (default true): unsolicited inbound packets
   * are dropped before conntrack records them. False shows what a bare Linux
   * NAT does (see natRuleset).
   */
  firewall?: boolean
  /**
   * An IPv6-only site (lab-ipv6.ts): routed (`nat` must be `none`; IPv6 has no NAT), hosts with
   * an IPv6 address and no IPv4 one (but 127.0.0.1), the router's WAN firewalled.
   */
  ipv6Only?: boolean
}

export interface LabSpec {
  sites: SiteSpec[]
  /** Hosts with public addresses straight on the core (default 1: the supernode's). */
  publicHosts?: number
  /** UDP conntrack timeouts (and full-cone mapping lifetime) on every NAT, seconds (default 30). */
  udpTimeoutS?: number
  /** IPv6 on the core and the public hosts too (default: when a site is IPv6-only). */
  ipv6?: boolean
}

export interface LabHost {
  /** A readable name: `pub0`, `s1h0`. */
  name: string
  ns: string
  /** Its own address (private behind a NAT); on an IPv6-only host, its IPv6 address. */
  addr: string
  /** Its IPv6 address, on a dual-stack public host or an IPv6-only host. */
  addr6?: string
}

export interface LabSite {
  index: number
  nat: NatMode
  carrier: NatMode | null
  /** An IPv6-only site (lab-ipv6.ts). */
  ipv6Only?: boolean
  /** The home router's namespace. */
  router: string
  /** The carrier router's namespace (double NAT), else null. */
  carrierRouter: string | null
  /** The site's address on the internet: the outermost router's WAN address. */
  publicAddr: string
  /** The home router's address on its LAN (the hosts' gateway). */
  gateway: string
  hosts: LabHost[]
}

export interface Lab {
  tag: string
  core: string
  publicHosts: LabHost[]
  sites: LabSite[]
  /** Every namespace the lab created, in creation order. */
  namespaces: string[]
  udpTimeoutS: number
  /** Run `cmd args` inside `ns` to completion; its stdout. */
  exec(ns: string, cmd: string, args: string[], input?: string): string
  /** Start a long-running process inside `ns`; the lab kills it on destroy. */
  spawn(ns: string, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess
  /** The conntrack table of `ns` (empty where nothing uses conntrack). */
  conntrack(ns: string): ConntrackEntry[]
  /** Run `fn` (synchronously) at teardown, after the lab's processes are dead. */
  onDestroy(fn: () => void): void
  /** A new temp dir, removed at teardown (by the reaper, too, if this process dies). */
  tempDir(prefix: string): string
  destroy(): Promise<void>
}
